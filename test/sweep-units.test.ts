/**
 * Batched sweeps without spawning anything: the list-panes parser, the combined probe
 * command and its splitter, the backoff schedule, and the sweep engine's grouping and
 * backoff over in-memory hosts and runtimes.
 */
import { describe, expect, it } from 'vitest';
import { EnnioError } from '../src/core/errors.js';
import type { ExecResult, Host } from '../src/host/host.js';
import { backoffDelay, ReconnectGate } from '../src/lifecycle/backoff.js';
import { sweep, type SweepTarget } from '../src/lifecycle/sweep.js';
import { combinedProbeArgv, splitProbeOutput, uniqueProbes, type HostProbe } from '../src/ops/host-probes.js';
import { listPanesArgv, panesFromResult, parsePanes } from '../src/ops/tmux.js';
import { statusFromPanes, tmuxProbeKey, TmuxRuntime } from '../src/strategies/tmux-runtime.js';
import type { BatchSweeper, Runtime, RuntimeHandle, RuntimeStatus } from '../src/strategies/types.js';

const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: '' });

describe('tmux list-panes builder and parser', () => {
  it('asks for every pane of the server with the sweep fields, current command last', () => {
    const argv = listPanesArgv({ socket: 'ennio-x' });
    expect(argv.slice(0, 6)).toEqual(['tmux', '-u', '-L', 'ennio-x', 'list-panes', '-a']);
    expect(argv[7]).toBe('#{session_name}\t#{pane_dead}\t#{pane_pid}\t#{pane_dead_status}\t#{window_activity}\t#{pane_current_command}');
  });

  it('parses live and dead panes, keeping the first pane of a session and tabs in the command', () => {
    const panes = parsePanes(['a\t0\t101\t\t1700000000\tnode', 'b\t1\t102\t3\t1700000005\tsh', 'a\t0\t103\t\t1700000001\tvim', 'c\t0\t104\t\t\tweird\tname', ''].join('\n'));
    expect([...panes.keys()]).toEqual(['a', 'b', 'c']);
    expect(panes.get('a')).toEqual({ session: 'a', dead: false, pid: 101, exitStatus: undefined, currentCommand: 'node', activityAt: 1_700_000_000_000 });
    expect(panes.get('b')).toMatchObject({ dead: true, exitStatus: 3, activityAt: 1_700_000_005_000 });
    expect(panes.get('c')).toMatchObject({ currentCommand: 'weird\tname', activityAt: undefined });
  });

  it('reads "no server running" as no sessions, and a failed command as an error', () => {
    expect(panesFromResult({ code: 1, stdout: '', stderr: 'no server running on /tmp/tmux-0/x\n' }, 'h').size).toBe(0);
    expect(panesFromResult({ code: 1, stdout: '', stderr: 'error connecting to /tmp/tmux-0/x (No such file or directory)\n' }, 'h').size).toBe(0);
    expect(() => panesFromResult({ code: 127, stdout: '', stderr: 'sh: tmux: not found' }, 'h')).toThrow(expect.objectContaining({ code: 'TOOL_MISSING' }));
    expect(() => panesFromResult({ code: 1, stdout: '', stderr: 'server exited unexpectedly' }, 'h')).toThrow(expect.objectContaining({ code: 'COMMAND_FAILED' }));
  });

  it('turns panes into session statuses', () => {
    const panes = parsePanes('run\t0\t1\t\t1700000000\tnode\ndone\t1\t2\t7\t1700000000\tnode\n');
    expect(statusFromPanes(panes, 'run')).toEqual({ state: 'running', currentCommand: 'node', activityAt: 1_700_000_000_000 });
    expect(statusFromPanes(panes, 'done')).toMatchObject({ state: 'exited', exitCode: 7 });
    expect(statusFromPanes(panes, 'gone')).toEqual({ state: 'missing' });
  });

  it('keys probes by tmux server, so sessions of one server share a probe', () => {
    expect(tmuxProbeKey({ socket: 's1' })).toBe(tmuxProbeKey({ socket: 's1' }));
    expect(tmuxProbeKey({ socket: 's1' })).not.toBe(tmuxProbeKey({ socket: 's2' }));
    expect(tmuxProbeKey({})).not.toBe(tmuxProbeKey({ socketPath: '/tmp/x' }));
  });
});

describe('combined host probes', () => {
  const nonce = 'ennio-probe-0123456789abcdef01234567';
  const probes: HostProbe[] = [
    { key: 'tmux:L:a', argv: ['tmux', '-L', 'a', 'list-panes'] },
    { key: 'state', argv: ['sh', '-c', 'cat "$1"', 'sh', "it's here"] },
  ];

  it('builds one sh -c with every probe quoted between markers, the nonce as $1', () => {
    const argv = combinedProbeArgv(probes, nonce);
    expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
    expect(argv.slice(3)).toEqual(['sh', nonce]);
    const script = argv[2] as string;
    expect(script).toContain("( exec tmux -L a list-panes ) </dev/null; c=$?");
    expect(script).toContain(`( exec sh -c 'cat "$1"' sh 'it'\\''s here' ) </dev/null; c=$?`);
    expect(script).not.toContain(nonce); // passed as an argument, never in the script text
  });

  /** The output the script writes for these probe results (what sh would print). */
  function output(parts: Array<[string, string, string, number]>): ExecResult {
    let stdout = '';
    let stderr = '';
    for (const [key, out, err, code] of parts) {
      stdout += `${nonce} ${key}\n${out}\n${nonce} =${code} ${key}\n`;
      stderr += `${nonce} ${key}\n${err}\n${nonce} =${code} ${key}\n`;
    }
    return { code: 0, stdout, stderr };
  }

  it('splits the output back into each probe\'s stdout, stderr and exit status', () => {
    const res = output([['tmux:L:a', 'x\t0\t1\n', '', 0], ['state', 'no newline at end', 'cat: nope\n', 1]]);
    const split = splitProbeOutput(probes, nonce, res);
    expect(split.get('tmux:L:a')).toEqual({ code: 0, stdout: 'x\t0\t1\n', stderr: '' });
    expect(split.get('state')).toEqual({ code: 1, stdout: 'no newline at end', stderr: 'cat: nope\n' });
  });

  it('is not fooled by a probe printing a marker with another nonce', () => {
    const fake = `ennio-probe-ffffffffffffffffffffffff =0 state\nfake\n`;
    const split = splitProbeOutput(probes, nonce, output([['tmux:L:a', fake, '', 0], ['state', 'real', '', 0]]));
    expect(split.get('tmux:L:a')?.stdout).toBe(fake);
    expect(split.get('state')?.stdout).toBe('real');
  });

  it('reports a probe cut short as failed, never as empty output', () => {
    const res = output([['tmux:L:a', 'x', '', 0]]);
    const split = splitProbeOutput(probes, nonce, { code: 124, stdout: `${res.stdout}${nonce} state\npartial`, stderr: 'Killed\n' });
    expect(split.get('tmux:L:a')).toMatchObject({ code: 0, stdout: 'x' });
    expect(split.get('state')).toMatchObject({ code: 124, stdout: '' });
    expect(split.get('state')?.stderr).toMatch(/did not run to its end.*exited 124.*Killed/);
  });

  it('runs a key once, and refuses bad keys and one key with two commands', () => {
    expect(uniqueProbes([...probes, { key: 'state', argv: probes[1]!.argv }])).toHaveLength(2);
    expect(() => uniqueProbes([{ key: 'bad key', argv: ['true'] }])).toThrow(/invalid probe key/);
    expect(() => uniqueProbes([{ key: 'k', argv: ['true'] }, { key: 'k', argv: ['false'] }])).toThrow(/share the key/);
    expect(() => uniqueProbes([{ key: 'k', argv: [] }])).toThrow(/empty argv/);
  });
});

describe('reconnect backoff', () => {
  it('doubles from 1 s to a 30 s cap', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffDelay(n, () => 0.5));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('jitters by at most 20 %', () => {
    expect(backoffDelay(3, () => 0)).toBe(3200);
    expect(backoffDelay(3, () => 1)).toBe(4800);
    expect(backoffDelay(9, () => 1)).toBe(36_000);
  });

  it('holds a failing key back until its retry time, and clears it on success', () => {
    let now = 1_000_000;
    const gate = new ReconnectGate({ now: () => now, random: () => 0.5 });
    expect(gate.blocked('host:a')).toBeUndefined();
    const err = new EnnioError('SSH_CONNECT', 'down');
    expect(gate.failed('host:a', err)).toMatchObject({ failures: 1, retryAt: now + 1000, since: now });
    expect(gate.blocked('host:a')).toMatchObject({ error: err, failures: 1 });
    now += 1000;
    expect(gate.blocked('host:a')).toBeUndefined();
    expect(gate.failed('host:a', err)).toMatchObject({ failures: 2, retryAt: now + 2000, since: now - 1000 });
    expect(gate.succeeded('host:a')).toBe(true);
    expect(gate.succeeded('host:a')).toBe(false);
    expect(gate.blocked('host:a')).toBeUndefined();
  });
});

/** A host that answers `list-panes` from a table of tmux servers, or fails when down. */
class TableHost implements Host {
  readonly isRemote = true;
  calls: string[][] = [];
  down: Error | undefined;
  constructor(
    readonly label: string,
    private readonly panes: string,
  ) {}
  exec(argv: readonly string[]): Promise<ExecResult> {
    this.calls.push([...argv]);
    if (this.down) return Promise.reject(this.down);
    return Promise.resolve(ok(this.panes));
  }
  homeDir(): Promise<string> {
    return Promise.resolve('/root');
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Poll a condition that the code under test makes true (a promise chain settling). */
async function waitFor(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !ok(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(ok()).toBe(true);
}

const handle = (id: string, socket = 'ennio'): RuntimeHandle => ({ id, runtimeName: 'tmux', data: { socket } });

describe('the sweep engine', () => {
  it('asks each host once for all of its sessions and reports each session', async () => {
    const a = new TableHost('root@a:22', 's1\t0\t1\t\t1700000000\tnode\ns2\t1\t2\t5\t1700000000\tnode\n');
    const b = new TableHost('root@b:22', '');
    const ra = new TmuxRuntime(a);
    const rb = new TmuxRuntime(b);
    const targets: SweepTarget[] = [
      ...['s1', 's2', 's3'].map((id) => ({ id: `x-${id}`, runtime: ra, handle: handle(id) })),
      { id: 'y-1', runtime: rb, handle: handle('t1') },
    ];
    const report = await sweep(targets);
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(1);
    expect(report.checks.get('x-s1')).toMatchObject({ ok: true, status: { state: 'running', currentCommand: 'node' } });
    expect(report.checks.get('x-s2')).toMatchObject({ ok: true, status: { state: 'exited', exitCode: 5 } });
    expect(report.checks.get('x-s3')).toEqual({ ok: true, status: { state: 'missing' } });
    expect(report.checks.get('y-1')).toEqual({ ok: true, status: { state: 'missing' } });
    expect(report.hosts.map((h) => [h.label, h.calls, h.sessions])).toEqual([['root@a:22', 1, 3], ['root@b:22', 1, 1]]);
  });

  it('puts several tmux servers and registered probes of a host into one command', async () => {
    const a = new TableHost('root@a:22', '');
    const r = new TmuxRuntime(a);
    const extra = (host: Host): HostProbe[] => [{ key: 'activity', argv: ['cat', `/state/${host.label}`] }];
    const report = await sweep([{ id: '1', runtime: r, handle: handle('s1', 'one') }, { id: '2', runtime: r, handle: handle('s2', 'two') }], { extraProbes: [extra] });
    expect(a.calls).toHaveLength(1);
    const [argv] = a.calls;
    expect(argv?.slice(0, 2)).toEqual(['sh', '-c']);
    expect(argv?.[2]).toContain("list-panes -a -F"); // both servers…
    expect(argv?.[2]).toContain('-L one');
    expect(argv?.[2]).toContain('-L two');
    expect(argv?.[2]).toContain("cat /state/root@a:22"); // …and the registered probe
    // The table host does not print markers: every probe is reported as not run, per session.
    expect(report.checks.get('1')).toMatchObject({ ok: false });
    expect(report.hosts[0]?.probes?.has('activity')).toBe(true);
  });

  it('backs off from a host that is down, reporting its sessions with the last failure', async () => {
    let now = 5_000_000;
    const gate = new ReconnectGate({ now: () => now, random: () => 0.5 });
    const a = new TableHost('root@a:22', 's1\t0\t1\t\t1700000000\tnode\n');
    a.down = new EnnioError('SSH_CONNECT', 'cannot connect to root@a:22: ECONNREFUSED');
    const targets = [{ id: '1', runtime: new TmuxRuntime(a), handle: handle('s1') }];
    const first = await sweep(targets, { gate });
    expect(first.checks.get('1')).toMatchObject({ ok: false, error: a.down });
    expect(first.hosts[0]).toMatchObject({ calls: 1, retryAt: now + 1000 });
    now += 500;
    const held = await sweep(targets, { gate });
    expect(a.calls).toHaveLength(1); // not asked again within the backoff
    expect(held.checks.get('1')).toMatchObject({ ok: false, error: a.down, retryAt: 5_001_000 });
    expect(held.hosts[0]).toMatchObject({ calls: 0 });
    now += 500;
    a.down = undefined;
    const back = await sweep(targets, { gate });
    expect(a.calls).toHaveLength(2);
    expect(back.hosts[0]).toMatchObject({ calls: 1, recovered: true });
    expect(back.checks.get('1')).toMatchObject({ ok: true, status: { state: 'running' } });
  });

  it('does not wait past its budget for a host that hangs, and does not ask it again while it hangs', async () => {
    let now = 7_000_000;
    const gate = new ReconnectGate({ now: () => now, random: () => 0.5 });
    const inFlight = new Map<string, { since: number }>();
    const hanging = new TableHost('root@hang:22', '');
    let fail: (err: Error) => void = () => undefined;
    hanging.exec = (argv) => {
      hanging.calls.push([...argv]);
      return new Promise((_, reject) => (fail = reject));
    };
    const fine = new TableHost('root@fine:22', 'f1\t0\t1\t\t1700000000\tnode\n');
    const targets = [
      { id: 'h', runtime: new TmuxRuntime(hanging), handle: handle('h1') },
      { id: 'f', runtime: new TmuxRuntime(fine), handle: handle('f1') },
    ];
    // The hanging host never answers before it is told to fail, so the budget always runs out first.
    const first = await sweep(targets, { gate, inFlight, budgetMs: 20 });
    expect(first.checks.get('f')).toMatchObject({ ok: true, status: { state: 'running' } });
    expect(first.checks.get('h')).toMatchObject({ ok: false, error: { code: 'SSH_CONNECT', message: expect.stringMatching(/no answer from root@hang:22 yet/) } });
    const second = await sweep(targets, { gate, inFlight, budgetMs: 20 });
    expect(hanging.calls).toHaveLength(1); // still waiting for the first probe: not asked again
    expect(fine.calls).toHaveLength(2);
    expect(second.hosts.find((h) => h.label === 'root@hang:22')).toMatchObject({ calls: 0 });
    // Its late failure still counts: the host is then in backoff.
    fail(new EnnioError('SSH_CONNECT', 'no answer from hang for 30 s'));
    await waitFor(() => inFlight.size === 0);
    expect(gate.blocked('host:root@hang:22')).toMatchObject({ failures: 1, error: { message: 'no answer from hang for 30 s' } });
    now += 1000;
    await sweep(targets, { gate, inFlight, budgetMs: 20 });
    expect(hanging.calls).toHaveLength(2);
  });

  it('gives a host that answered late that long next time, so a slow but working probe is used', async () => {
    const inFlight = new Map<string, { since: number }>();
    const answerTimes = new Map<string, number>();
    const slow = new TableHost('root@slow:22', 's1\t0\t1\t\t1700000000\tnode\n');
    const plain = slow.exec.bind(slow);
    const delays = [400, 100]; // the first sweep reads every screen; later ones are quicker
    slow.exec = (argv) => new Promise((r) => setTimeout(() => r(plain(argv)), delays[slow.calls.length] ?? 0));
    const targets = [{ id: '1', runtime: new TmuxRuntime(slow), handle: handle('s1') }];
    const first = await sweep(targets, { inFlight, answerTimes, budgetMs: 20 });
    expect(first.checks.get('1')).toMatchObject({ ok: false, error: { message: expect.stringMatching(/no answer from root@slow:22 yet/) } });
    await waitFor(() => inFlight.size === 0);
    expect(answerTimes.get('host:root@slow:22')).toBeGreaterThanOrEqual(400);
    // Slower than the 20 ms budget, but the host earned a longer one: its answer is used.
    const second = await sweep(targets, { inFlight, answerTimes, budgetMs: 20 });
    expect(second.checks.get('1')).toMatchObject({ ok: true, status: { state: 'running' } });
  });

  it('makes one batched call per node key, and checks runtimes without a sweeper one by one', async () => {
    const batches: string[][] = [];
    const sweeper: BatchSweeper = {
      kind: 'batch',
      label: 'node@a',
      keyOf: () => 'node@a',
      check: (hs) => {
        batches.push(hs.map((h) => h.id));
        return Promise.resolve(new Map<string, RuntimeStatus | Error>([['n1', { state: 'running' }], ['n2', new EnnioError('INVALID_ARGUMENT', 'bad handle')]]));
      },
    };
    const nodeRuntime = { sweeper } as unknown as Runtime;
    const perSession = { liveness: (h: RuntimeHandle) => Promise.resolve(h.id === 'p1' ? 'running' : 'exited') } as unknown as Runtime;
    const report = await sweep([
      { id: 'a', runtime: nodeRuntime, handle: handle('n1') },
      { id: 'b', runtime: nodeRuntime, handle: handle('n2') },
      { id: 'c', runtime: nodeRuntime, handle: handle('n3') },
      { id: 'd', runtime: perSession, handle: handle('p1') },
      { id: 'e', runtime: perSession, handle: handle('p2') },
    ]);
    expect(batches).toEqual([['n1', 'n2', 'n3']]);
    expect(report.checks.get('a')).toEqual({ ok: true, status: { state: 'running' } });
    expect(report.checks.get('b')).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
    expect(report.checks.get('c')).toMatchObject({ ok: false }); // not answered: an error, not "missing"
    expect(report.checks.get('d')).toEqual({ ok: true, status: { state: 'running' } });
    expect(report.checks.get('e')).toEqual({ ok: true, status: { state: 'exited' } });
  });
});
