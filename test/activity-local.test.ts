/**
 * Activity of a local claude-code session, end to end: the stand-in claude runs the hooks
 * ennio merged into .claude/settings.local.json, and `ennio status --json` shows the
 * transitions; the pitfalls (late idle notification, Esc, long tools, lost hooks); `ennio
 * wait`; restore continues the conversation with --resume.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, git, waitFor, type World } from './helpers/cli.js';
import { fakeClaudeBin, fakeClaudeStarts } from './helpers/fake-claude.js';

let w: World;
let log: string;

interface Session { id: string; status: string; activity: string; activity_since: string; agent_session_id: string | null; workspace_path: string }
const sessions = (): Session[] => {
  const res = w.run(['status', '--json']);
  if (res.code !== 0) throw new Error(`status failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as Session[];
};
const session = (id: string): Session => {
  const s = sessions().find((x) => x.id === id);
  if (!s) throw new Error(`no session ${id}`);
  return s;
};
const activityOf = (id: string): string => session(id).activity;
const screen = (id: string): string => w.tmux('capture-pane', '-p', '-t', `=${id}:`).stdout;
const send = (id: string, text: string): void => {
  const res = w.run(['send', id, text]);
  if (res.code !== 0) throw new Error(`send failed: ${res.stderr}`);
};
const activityEvents = (id: string): string[] =>
  (JSON.parse(w.run(['session', 'info', id, '--json']).stdout) as { events: Array<{ type: string; detail: { activity?: string } }> }).events
    .filter((e) => e.type === 'activity').map((e) => e.detail.activity ?? '');
const stateLines = (id: string): string[] => {
  const file = join(w.home, 'activity', `${id}.events`);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
};

const USER_SETTINGS = { permissions: { allow: ['Bash(ls:*)'] }, hooks: { Stop: [{ hooks: [{ type: 'command', command: 'cat >/dev/null; echo user-hook >> user-hook.log' }] }] } };

beforeAll(() => {
  w = createWorld();
  w.makeRepo();
  log = join(w.dir, 'fake-claude.log');
  w.env['PATH'] = `${fakeClaudeBin(w.dir)}:${w.env['PATH'] ?? ''}`;
  w.env['FAKE_CLAUDE_LOG'] = log;
  writeFileSync(join(w.dir, 'user-settings.json'), JSON.stringify(USER_SETTINGS));
  w.writeConfig([
    'activity: { quiet_after: 2s, stale_after: 5m }',
    'projects:',
    '  - name: app',
    '    path: ./repo',
    '    agent: claude-code',
    '    post_create:',
    '      - git config user.name t && git config user.email t@t.invalid',
    `      - mkdir -p .claude && cp ${join(w.dir, 'user-settings.json')} .claude/settings.local.json`,
    '',
  ].join('\n'));
});
afterAll(() => w.cleanup());

describe('claude-code activity from its hooks', () => {
  let s: Session;
  beforeAll(() => {
    const res = w.run(['spawn', 'app', '--json', '--prompt', 'work 4']);
    expect(res.stderr).toBe('');
    s = JSON.parse(res.stdout) as Session;
  });

  it('merges its hooks beside the user\'s settings, keeps the file out of git, and the user\'s hook still runs', async () => {
    const merged = JSON.parse(readFileSync(join(s.workspace_path, '.claude/settings.local.json'), 'utf8')) as { permissions: unknown; hooks: Record<string, unknown[]> };
    expect(merged.permissions).toEqual(USER_SETTINGS.permissions);
    for (const event of ['SessionStart', 'UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'Notification', 'Stop', 'SubagentStop', 'SessionEnd']) {
      expect(JSON.stringify(merged.hooks[event])).toContain('ennio-hook-');
    }
    expect(merged.hooks['Stop']).toHaveLength(2);
    expect(JSON.stringify(merged.hooks['Stop']![0])).toContain('user-hook');
    expect(git(s.workspace_path, 'status', '--porcelain', '--untracked-files=all')).not.toContain('settings.local.json');
    await waitFor(() => existsSync(join(s.workspace_path, 'user-hook.log')), 'the user\'s own Stop hook to run');
  });

  it('a turn is working, then idle; the agent\'s session id is recorded', async () => {
    await waitFor(() => activityOf(s.id) === 'idle' && stateLines(s.id).some((l) => l.includes('\tStop\t')), 'idle after the first turn');
    const starts = fakeClaudeStarts(log);
    expect(starts).toHaveLength(1);
    const now = session(s.id);
    expect(now.agent_session_id).toBe(starts[0]!.session_id);
    expect(activityEvents(s.id)).toContain('working');
    expect(screen(s.id)).not.toContain('hook stdin'); // every payload was drained (no EPIPE)
  });

  it('a permission prompt is waiting_input; answering it works and ends idle', async () => {
    send(s.id, 'ask');
    await waitFor(() => activityOf(s.id) === 'waiting_input', 'waiting_input');
    expect(w.run(['status']).stdout).toMatch(new RegExp(`${s.id}.*waiting \\d+s`));
    send(s.id, '1');
    await waitFor(() => activityOf(s.id) === 'idle', 'idle after answering');
    const tail = activityEvents(s.id).slice(-3);
    expect(tail.at(-1)).toBe('idle');
  });

  it('a Notification(idle_prompt) long after Stop keeps it idle (never waiting)', async () => {
    const since = session(s.id).activity_since;
    const before = stateLines(s.id).length;
    send(s.id, 'late');
    await waitFor(() => stateLines(s.id).slice(before).some((l) => l.includes('\tNotification\tidle_prompt')), 'the late notification');
    const now = session(s.id);
    expect(now.activity).toBe('idle');
    expect(now.activity_since).toBe(since);
  });

  it('Esc interrupts without a Stop hook: the quiet prompt on screen makes it idle', async () => {
    send(s.id, 'work 600');
    await waitFor(() => activityOf(s.id) === 'working', 'working');
    await waitFor(() => screen(s.id).includes('esc to interrupt'), 'the spinner');
    const before = stateLines(s.id).length;
    expect(w.tmux('send-keys', '-t', `=${s.id}:`, 'Escape').code).toBe(0);
    await waitFor(() => screen(s.id).includes('Interrupted by user'), 'the interrupt on screen');
    await waitFor(() => activityOf(s.id) === 'idle', 'idle after Esc');
    expect(stateLines(s.id).slice(before).some((l) => l.includes('\tStop\t'))).toBe(false);
  });

  it('a subagent and a long tool call stay working while the hooks are quiet', async () => {
    send(s.id, 'subagent 20');
    await waitFor(() => activityOf(s.id) === 'working', 'working');
    // Well past quiet_after (2 s) since the last hook, the spinner still turns: still working.
    await waitFor(() => /Working… \(1[2-9]s/.test(screen(s.id)), 'the turn to run 12 s');
    expect(stateLines(s.id).at(-1)).toContain('\tSubagentStop\t');
    expect(activityOf(s.id)).toBe('working');
    await waitFor(() => activityOf(s.id) === 'idle', 'idle after the long turn', 60_000);
  });

  it('a lost Stop hook does not leave it working: the screen corrects it', async () => {
    send(s.id, 'lost 1');
    await waitFor(() => screen(s.id).includes('done (1s)'), 'the turn to end on screen');
    await waitFor(() => activityOf(s.id) === 'idle', 'idle without a Stop hook');
    expect(stateLines(s.id).at(-1)).toContain('\tPostToolUse\t');
  });

  it('ennio wait: exit 0 when reached, 124 on timeout, and a message sent restarts the wait', async () => {
    const timedOut = w.run(['wait', s.id, '--for', 'waiting_input', '--timeout', '1']);
    expect(timedOut.code).toBe(124);
    expect(timedOut.stderr).toContain('timed out');
    send(s.id, 'work 3');
    // The session is still "idle" from before the message: that does not count.
    const waited = w.run(['wait', s.id, '--for', 'idle', '--timeout', '60', '--json']);
    expect(waited.stderr).toBe('');
    expect(waited.code).toBe(0);
    const result = JSON.parse(waited.stdout) as { sessions: Array<{ id: string; activity: string }> };
    expect(result.sessions).toEqual([expect.objectContaining({ id: s.id, activity: 'idle' })]);
    expect(stateLines(s.id).at(-1)).toContain('\tStop\t');
    const bad = w.run(['wait', s.id, '--for', 'sleeping']);
    expect(bad.code).toBe(2);
  });

  it('exits: exited; restore continues the same conversation (--resume <id>)', async () => {
    const conversation = session(s.id).agent_session_id;
    expect(conversation).toMatch(/^[0-9a-f-]{36}$/);
    send(s.id, 'exit');
    const waited = w.run(['wait', s.id, '--for', 'exited', '--timeout', '60']);
    expect(waited.code).toBe(0);
    expect(session(s.id)).toMatchObject({ status: 'exited', activity: 'exited' });
    expect(w.run(['session', 'restore', s.id]).code).toBe(0);
    await waitFor(() => fakeClaudeStarts(log).length === 2, 'the restored agent');
    expect(fakeClaudeStarts(log)[1]!.argv.slice(0, 2)).toEqual(['--resume', conversation]);
    await waitFor(() => activityOf(s.id) === 'idle', 'idle after the resumed start');
    expect(session(s.id).agent_session_id).toBe(conversation);
  });

  it('killed and restored in a re-created workspace: still --resume, hooks merged again', async () => {
    const conversation = session(s.id).agent_session_id!;
    expect(w.run(['session', 'kill', s.id]).code).toBe(0);
    expect(session(s.id)).toMatchObject({ status: 'killed', activity: 'exited' });
    expect(existsSync(s.workspace_path)).toBe(false);
    expect(w.run(['session', 'restore', s.id]).code).toBe(0);
    await waitFor(() => fakeClaudeStarts(log).length === 3, 'the restored agent');
    expect(fakeClaudeStarts(log)[2]!.argv.slice(0, 2)).toEqual(['--resume', conversation]);
    expect(readFileSync(join(s.workspace_path, '.claude/settings.local.json'), 'utf8')).toContain('ennio-hook-');
    await waitFor(() => activityOf(s.id) === 'idle', 'idle');
    expect(w.run(['session', 'kill', s.id]).code).toBe(0);
  });
});

describe('ennio wait after spawn --prompt', () => {
  it('waits for the prompt\'s turn, not for the idle that SessionStart shows while the agent loads', () => {
    // `slow 4`: UserPromptSubmit comes 4 s after SessionStart, the input box quiet meanwhile (quiet_after is 2 s).
    const res = w.run(['spawn', 'app', '--json', '--prompt', 'slow 4 work 2']);
    expect(res.code).toBe(0);
    const id = (JSON.parse(res.stdout) as Session).id;
    const waited = w.run(['wait', id, '--for', 'idle', '--timeout', '120', '--json']);
    expect(waited.stderr).toBe('');
    expect(waited.code).toBe(0);
    // The turn is over when wait returns: its hooks are all there, Stop last.
    const events = stateLines(id).map((l) => l.split('\t')[1]);
    expect(events).toEqual(['SessionStart', 'UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'Stop']);
    expect(screen(id)).toContain('done (2s)');
    // Working on the prompt from the spawn until its Stop: never idle before that.
    expect(activityEvents(id)).toEqual(['working', 'idle']);
    expect(w.run(['session', 'kill', id]).code).toBe(0);
  });
});
