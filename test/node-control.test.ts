/**
 * The daemon's tmux fast path: control-mode parsing and quoting (pure), and the same ops
 * run through ControlModeHost and through plain LocalHost against a real tmux server
 * giving the same results — also after the tmux server went away (fallback).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Host } from '../src/host/host.js';
import { LocalHost } from '../src/host/local-host.js';
import { ControlModeHost, controlPlan } from '../src/node/daemon/control-host.js';
import { CONTROL_SESSION, ControlParser } from '../src/node/daemon/tmux-control.js';
import * as tmux from '../src/ops/tmux.js';
import { Cleanup, uniqueSocket, waitUntil } from './helpers/node-daemon.js';

describe('ControlParser', () => {
  function parse(chunks: string[]): { results: Array<[boolean, string[]]>; notes: string[] } {
    const results: Array<[boolean, string[]]> = [];
    const notes: string[] = [];
    const p = new ControlParser((ok, lines) => results.push([ok, lines]), (l) => notes.push(l));
    for (const c of chunks) p.feed(c);
    return { results, notes };
  }

  it('returns our blocks in order, skips other clients\' blocks, passes notifications on', () => {
    const { results, notes } = parse([
      '%begin 1 10 0\n%end 1 10 0\n%session-changed $1 ctl\n',
      '%begin 1 11 1\nline a\n\nline b\n%end 1 11 1\n',
      '%begin 1 12 1\ncan\'t find session: =x\n%error 1 12 1\n%exit\n',
    ]);
    expect(results).toEqual([
      [true, ['line a', '', 'line b']],
      [false, ["can't find session: =x"]],
    ]);
    expect(notes).toEqual(['%session-changed $1 ctl', '%exit']);
  });

  it('treats pane text that looks like protocol lines as content, across chunk boundaries', () => {
    const { results } = parse(['%begin 5 7 1\n%end 1 2 1\n%begin 5 8 1\n%err', 'or 5 7 0\n%end 5 7', ' 1\n']);
    expect(results).toEqual([[true, ['%end 1 2 1', '%begin 5 8 1', '%error 5 7 0']]]);
  });
});

describe('controlPlan', () => {
  it('takes the hot commands of the ops, quoted for tmux', () => {
    const argv = tmux.sendLiteralArgv({ socket: 's1' }, 'a', `it's $HOME #{x} ~ {}`);
    expect(controlPlan(argv)).toEqual({ base: ['tmux', '-u', '-L', 's1'], line: `send-keys '-t' '=a:' '-l' '--' 'it'\\''s $HOME #{x} ~ {}'`, commands: 1 });
    expect(controlPlan(tmux.capturePaneArgv({}, 'a', 5))?.base).toEqual(['tmux', '-u']);
    // tmuxArg's `\;` (argv mode) becomes a plain ';' inside quotes.
    expect(controlPlan(tmux.sendLiteralArgv({}, 'a', 'x;'))?.line).toMatch(/'x;'$/);
  });

  it('keeps a command sequence (send: has-session ; send-keys ; …) one line of several commands', () => {
    const plan = controlPlan(['tmux', '-u', 'has-session', '-t', '=a', ';', 'send-keys', '-t', '=a:', '-l', '--', 'x\\;', ';', 'display-message', '-p', '#{pane_dead}']);
    expect(plan).toEqual({ base: ['tmux', '-u'], line: `has-session '-t' '=a' ; send-keys '-t' '=a:' '-l' '--' 'x;' ; display-message '-p' '#{pane_dead}'`, commands: 3 });
    // One slow command makes the whole sequence spawn; an empty command is not a sequence.
    expect(controlPlan(['tmux', 'has-session', ';', 'new-session', '-d'])).toBeUndefined();
    expect(controlPlan(['tmux', 'has-session', ';', ';', 'list-panes'])).toBeUndefined();
    expect(controlPlan(['tmux', 'has-session', ';'])).toBeUndefined();
  });

  it('leaves everything else to spawning', () => {
    expect(controlPlan(tmux.loadBufferArgv({}, 'b'), { input: 'x' })).toBeUndefined();
    expect(controlPlan(tmux.newSessionArgv({}, { name: 'a', cwd: '/', env: {}, command: ['cat'] }))).toBeUndefined();
    expect(controlPlan(['tmux', '-S', '/x', 'list-panes'])).toBeUndefined();
    expect(controlPlan(['tmate', 'list-panes'])).toBeUndefined();
    expect(controlPlan(['tmux', 'send-keys', '-l', 'a\nb'])).toBeUndefined();
    expect(controlPlan(['git', 'status'])).toBeUndefined();
  });
});

describe('ControlModeHost against real tmux', () => {
  const cleanup = new Cleanup();
  const socket = cleanup.socket(uniqueSocket('ctl'));
  const server: tmux.TmuxServer = { socket };
  const local = new LocalHost();
  const fast = new ControlModeHost(local);
  beforeAll(async () => {
    cleanup.add(() => fast.close());
    await tmux.createSession(local, server, { name: 'agent', cwd: '/tmp', env: {}, command: ['cat'] });
  });
  afterAll(() => cleanup.run());

  const tricky = [`it's $HOME and "quotes"`, '#{pane_id} #(echo no) ~root', 'ends with ;', 'ends with \\;', '-starts with dash', 'ünïcødé ✓ 日本', '%end 1 2 1', '{ braces } $(x) `y`'];

  it('sends and captures exactly what spawned tmux does', async () => {
    // The first call spawns (and starts the control client); later ones use it.
    expect(await tmux.liveness(fast, server, 'agent')).toBe('running');
    await waitUntil(() => tmux.paneStates(local, server), (p) => p.has(CONTROL_SESSION), 'control session');
    for (const text of tricky) {
      await tmux.sendMessage(fast, server, 'agent', text);
      await waitUntil(() => tmux.capture(local, server, 'agent', 400), (o) => o.split('\n').filter((l) => l === text).length >= 2, `echo of ${text}`);
    }
    const viaControl = await tmux.capture(fast, server, 'agent', 400);
    const viaSpawn = await tmux.capture(local, server, 'agent', 400);
    expect(viaControl).toBe(viaSpawn);
    for (const text of tricky) expect(viaControl.split('\n')).toContain(text);
    expect(await tmux.paneStates(fast, server)).toEqual(await tmux.paneStates(local, server));
  });

  it('types a message without spawning tmux once the control client runs, and a failing sequence stops where tmux stops', async () => {
    const spawned: string[][] = [];
    const counting: Host = { label: 'local', isRemote: false, exec: (argv, o) => (spawned.push([...argv]), local.exec(argv, o)), homeDir: () => local.homeDir(), close: async () => {} } as Host;
    const counted = new ControlModeHost(counting);
    cleanup.add(() => counted.close());
    expect(await tmux.liveness(counted, server, 'agent')).toBe('running'); // spawned; starts the control client
    await waitUntil(async () => { spawned.length = 0; await tmux.liveness(counted, server, 'agent'); return spawned.length; }, (n) => n === 0, 'the control client to take commands');
    await tmux.sendMessage(counted, server, 'agent', 'via control mode');
    expect(spawned).toEqual([]);
    await waitUntil(() => tmux.capture(local, server, 'agent', 400), (o) => o.split('\n').filter((l) => l === 'via control mode').length >= 2, 'the echo');
    // has-session fails: nothing typed, the same "not running" as a spawned tmux gives.
    await expect(tmux.sendMessage(counted, server, 'ghost', 'lost')).rejects.toMatchObject({ code: 'SESSION_STATE' });
    expect(await counted.exec(['tmux', '-u', '-L', socket, 'has-session', '-t', '=ghost', ';', 'display-message', '-p', 'after'])).toEqual(await local.exec(['tmux', '-u', '-L', socket, 'has-session', '-t', '=ghost', ';', 'display-message', '-p', 'after']));
    // A later command's answer is its own (the failed line's skipped commands left no blocks behind).
    expect((await counted.exec(['tmux', '-u', '-L', socket, 'display-message', '-p', 'next'])).stdout).toBe('next\n');
    expect(spawned).toEqual([]);
  });

  it('reports missing sessions like tmux does, and falls back when the server is gone', async () => {
    await expect(tmux.capture(fast, server, 'ghost', 5)).rejects.toMatchObject({ code: 'COMMAND_FAILED' });
    expect(await tmux.liveness(fast, server, 'ghost')).toBe('missing');
    await tmux.killSession(fast, server, 'ghost'); // already gone: fine
    await local.exec(['tmux', '-L', socket, 'kill-server']);
    expect(await tmux.liveness(fast, server, 'agent')).toBe('missing');
    await expect(tmux.capture(fast, server, 'agent', 5)).rejects.toMatchObject({ code: 'COMMAND_FAILED' });
  });
});
