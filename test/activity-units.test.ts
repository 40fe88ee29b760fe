/**
 * The pieces of activity detection without an agent: the hook script itself (run by sh with
 * real payloads), the state-file parser, the probe's parser, Claude's settings merge and
 * every agent's screen patterns.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeHookCommand, codexNotifyArgv, HOOK_SCRIPT, isStateFilePath } from '../src/activity/hook-script.js';
import { activityProbe, parseProbe, screenArgv, wantsScreen } from '../src/activity/probe.js';
import { parseHookLines } from '../src/activity/state-lines.js';
import { agentPlugin } from '../src/agents/index.js';
import { CLAUDE_HOOK_EVENTS, mergeClaudeHooks } from '../src/agents/claude-hooks.js';
import { killTmuxServer } from './helpers/tmux-server.js';

let dir: string;
let script: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ennio-activity-units-'));
  script = join(dir, 'bin', 'ennio-hook-test.sh');
  spawnSync('mkdir', ['-p', join(dir, 'bin')]);
  writeFileSync(script, HOOK_SCRIPT);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run a Claude hook command the way Claude Code does: through sh, the JSON on stdin. */
function claudeHook(state: string, event: string, payload: string, scriptPath = script): { code: number | null; stdout: string } {
  const res = spawnSync('sh', ['-c', claudeHookCommand(scriptPath, state, event)], { input: payload, encoding: 'utf8' });
  return { code: res.status, stdout: res.stdout + res.stderr };
}
const lines = (file: string): string[][] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t'));

describe('the hook script', () => {
  it('appends time, event, notification type and session id; prints nothing; exits 0', () => {
    const state = join(dir, 'a', 'activity', 's1.events'); // the directory does not exist yet
    const r = claudeHook(state, 'Notification', JSON.stringify({ session_id: 'abc-123', hook_event_name: 'Notification', notification_type: 'permission_prompt', message: 'x' }));
    expect(r).toEqual({ code: 0, stdout: '' });
    const [line] = lines(state);
    expect(line![0]).toMatch(/^(u\d+(\.\d+)?|\d{13})$/);
    expect(line!.slice(1)).toEqual(['Notification', 'permission_prompt', 'abc-123']);
  });

  it('older Notification payloads without a type are read from the message', () => {
    const state = join(dir, 's2.events');
    claudeHook(state, 'Notification', '{"session_id":"s","message":"Claude needs your permission to use Bash"}');
    claudeHook(state, 'Notification', '{"session_id":"s","message":"Claude is waiting for your input"}');
    expect(lines(state).map((l) => l[2])).toEqual(['permission_prompt', 'idle_prompt']);
  });

  it('a payload cannot forge a line: values outside [A-Za-z0-9_.:-] are dropped', () => {
    const state = join(dir, 's3.events');
    claudeHook(state, 'Stop', JSON.stringify({ session_id: 'x\tStop\n1\tSessionEnd', notification_type: '$(touch PWN)' }));
    expect(readFileSync(state, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
    expect(lines(state)[0]!.slice(1)).toEqual(['Stop', '', '']);
  });

  it('drains a 1 MB payload (the agent never sees EPIPE) and still exits 0', () => {
    const state = join(dir, 's4.events');
    const big = JSON.stringify({ session_id: 's', tool_response: 'x'.repeat(1_000_000) });
    const r = claudeHook(state, 'PostToolUse', big);
    expect(r.code).toBe(0);
    expect(lines(state)[0]![1]).toBe('PostToolUse');
  });

  it('exits 0 and drains stdin even when the script is gone or the state file cannot be written', () => {
    expect(claudeHook(join(dir, 's5.events'), 'Stop', '{}', join(dir, 'missing.sh'))).toEqual({ code: 0, stdout: '' });
    writeFileSync(join(dir, 'not-a-dir'), '');
    expect(claudeHook(join(dir, 'not-a-dir', 'x.events'), 'Stop', '{"session_id":"s"}')).toEqual({ code: 0, stdout: '' });
  });

  it('codex notify: the JSON is the last argument, its type is the event, thread-id the session', () => {
    const state = join(dir, 's6.events');
    const res = spawnSync(codexNotifyArgv(script, state)[0]!, [...codexNotifyArgv(script, state).slice(1), '{"type":"agent-turn-complete","thread-id":"th-9","turn-id":"1"}'], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    expect(lines(state)[0]!.slice(1)).toEqual(['agent-turn-complete', '', 'th-9']);
  });
});

describe('state lines', () => {
  it('maps host uptime and epoch times to this machine\'s clock, and leaves a partial line for later', () => {
    const text = 'u100.50\tUserPromptSubmit\t\t\n1700000000000\tStop\t\tabc\nu101\tPre';
    const parsed = parseHookLines(text, { nowMs: 1_700_000_002_000, uptimeS: 102.5 }, 5_000_000);
    expect(parsed.events).toEqual([
      { at: 5_000_000 - 2000, event: 'UserPromptSubmit' },
      { at: 5_000_000 - 2000, event: 'Stop', agentSessionId: 'abc' },
    ]);
    expect(parsed.consumed).toBe(Buffer.byteLength('u100.50\tUserPromptSubmit\t\t\n1700000000000\tStop\t\tabc\n'));
  });
});

describe('the probe', () => {
  it('is one sh command for every session of a tmux server, and its answer splits by nonce', () => {
    const probe = activityProbe({ socket: 'sock' }, [{ session: 'a', stateFile: '/s/a.events', offset: 10, capture: { unlessMark: '5', minQuietS: 2 } }, { session: 'b', stateFile: '', offset: 0 }], 'n0nce');
    expect(probe.argv.slice(0, 2)).toEqual(['sh', '-c']);
    expect(probe.argv.slice(3)).toEqual(['ennio-activity', 'n0nce', 'tmux', '-L', 'sock', 'a', '/s/a.events', '10', '5', '2', 'b', '', '0', '', '-1']);
    // As the script prints it: every body is followed by one newline of its own.
    const out = '@n0nce now 1700000000000 99.5\n@n0nce s a 1699999999\nu1\tStop\t\t\n\n@n0nce c a\n> \n\n@n0nce s b -\n\n@n0nce end\n';
    const r = parseProbe(out, 'n0nce');
    expect(r.clock).toEqual({ nowMs: 1_700_000_000_000, uptimeS: 99.5 });
    expect(r.sessions.get('a')).toEqual({ windowActivity: 1_699_999_999, lines: 'u1\tStop\t\t\n', screen: '> \n' });
    expect(r.sessions.get('b')).toEqual({ lines: '' });
  });
});

describe('reading activity on the host itself (ennio-node)', () => {
  it('reads a screen exactly when the probe script would (real tmux, every case of the rule)', () => {
    const socket = `ennio-units-${process.pid}`;
    const tmux = (...args: string[]): string => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' }).stdout;
    try {
      tmux('new-session', '-d', '-s', 'w1', 'echo on-screen; exec cat');
      // The window's last activity is the echo: read the mark once it is on screen.
      for (let i = 0; i < 600 && !tmux('capture-pane', '-p', '-t', '=w1:').includes('on-screen'); i++) spawnSync('sleep', ['0.05']);
      const mark = Number(tmux('list-panes', '-a', '-F', '#{window_activity}').trim());
      const cases = [{ unlessMark: '', minQuietS: 0 }, { unlessMark: String(mark), minQuietS: 0 }, { unlessMark: '', minQuietS: 100_000 }, undefined];
      for (const capture of cases) {
        const probe = activityProbe({ socket }, [{ session: 'w1', stateFile: '', offset: 0, capture }]);
        const run = spawnSync(probe.argv[0]!, probe.argv.slice(1), { encoding: 'utf8' });
        const seen = probe.parse(run.stdout);
        const s = seen.sessions.get('w1')!;
        expect(s.windowActivity).toBe(mark);
        expect(wantsScreen(capture, s.windowActivity, seen.clock.nowMs), JSON.stringify(capture)).toBe(s.screen !== undefined);
      }
      expect(screenArgv({ socket }, 'w1')).toEqual(['tmux', '-u', '-L', socket, 'capture-pane', '-p', '-J', '-t', '=w1:']);
    } finally {
      killTmuxServer(socket);
    }
  });

  it('reads only a session\'s own state file', () => {
    expect(isStateFilePath('/home/u/.ennio/activity/s-1.events', 's-1')).toBe(true);
    expect(isStateFilePath('/home/u//.ennio/activity/s-1.events', 's-1')).toBe(true);
    for (const path of ['/home/u/.ennio/activity/s-2.events', 'home/u/activity/s-1.events', '/etc/s-1.events', '/x/activity/../activity/s-1.events', '/x/./activity/s-1.events', '/activity/s-1.events.bak']) {
      expect(isStateFilePath(path, 's-1'), path).toBe(false);
    }
  });
});

describe('claude settings', () => {
  const paths = { hookScript: '/h/.ennio/bin/ennio-hook-0123456789.sh', stateFile: '/h/.ennio/activity/s.events' };

  it('merges every event beside the user\'s own settings and hooks, and replaces an older ennio hook', () => {
    const user = { model: 'opus', hooks: { Stop: [{ hooks: [{ type: 'command', command: 'say done' }] }, { hooks: [{ type: 'command', command: 'sh /old/.ennio/bin/ennio-hook-aaaaaaaaaa.sh x claude Stop' }] }] } };
    const merged = JSON.parse(mergeClaudeHooks(JSON.stringify(user), paths)) as { model: string; hooks: Record<string, Array<{ matcher?: string; hooks: Array<{ command: string }> }>> };
    expect(merged.model).toBe('opus');
    expect(Object.keys(merged.hooks).sort()).toEqual([...CLAUDE_HOOK_EVENTS].sort());
    expect(merged.hooks['Stop']!.map((g) => g.hooks[0]!.command)).toEqual(['say done', claudeHookCommand(paths.hookScript, paths.stateFile, 'Stop')]);
    expect(merged.hooks['PreToolUse']![0]!.matcher).toBe('*');
    // Merging again changes nothing.
    expect(mergeClaudeHooks(JSON.stringify(merged), paths)).toBe(mergeClaudeHooks(JSON.stringify(user), paths));
  });

  it('refuses a file that is not JSON instead of clobbering it', () => {
    expect(() => mergeClaudeHooks('{ broken', paths)).toThrow(/not valid JSON/);
    expect(JSON.parse(mergeClaudeHooks(undefined, paths)).hooks.Stop).toHaveLength(1);
  });
});

describe('screen patterns', () => {
  const read = (agent: string, screen: string): string | undefined => agentPlugin(agent).activity.readScreen(screen);

  it('claude-code: spinner, permission dialog, input box', () => {
    expect(read('claude-code', 'x\n✻ Cogitating… (12s · esc to interrupt)\n╭──╮\n│ > │\n╰──╯')).toBe('working');
    expect(read('claude-code', 'Bash command\nDo you want to proceed?\n❯ 1. Yes\n  2. No')).toBe('waiting_input');
    expect(read('claude-code', '⎿  Interrupted by user\n╭───╮\n│ >   │\n╰───╯\n  ? for shortcuts')).toBe('idle');
    expect(read('claude-code', 'compiling...')).toBeUndefined();
  });

  it('codex, aider, opencode and custom programs', () => {
    expect(read('codex', '• Working (5s • esc to interrupt)')).toBe('working');
    expect(read('codex', 'Allow command?\n  Yes (y)  No (n)')).toBe('waiting_input');
    expect(read('aider', 'Add src/x.py to the chat? (Y)es/(N)o/(D)on\'t ask again [Yes]: ')).toBe('waiting_input');
    expect(read('aider', 'some answer\narchitect> ')).toBe('idle');
    expect(read('opencode', 'ctrl+p commands   enter send')).toBe('idle');
    expect(read('custom', 'demo-agent: message #1\n› ')).toBe('idle');
    expect(read('custom', 'Overwrite the file? (y/n)')).toBe('waiting_input');
    expect(read('custom', 'compiling 3/10')).toBeUndefined();
  });
});
