/**
 * Batched sweeps against a real OpenSSH sshd on loopback and real tmux: N sessions on one
 * host (two tmux servers) cost exactly one remote command per sweep, through
 * SessionManager.list (in-process `status`) and through the orchestrator's Lifecycle
 * (several configs sharing the host); a host that goes down is retried with backoff, not
 * every sweep, and recovers when it is back.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import type { Host } from '../src/host/host.js';
import { LocalHost } from '../src/host/local-host.js';
import { closeAllSshHosts, sshHostForConfig, SshHostRegistry } from '../src/host/ssh/registry.js';
import type { SshHost } from '../src/host/ssh/ssh-host.js';
import { ReconnectGate } from '../src/lifecycle/backoff.js';
import { sweep, type SweepTarget } from '../src/lifecycle/sweep.js';
import { runHostProbes, type HostProbe } from '../src/ops/host-probes.js';
import { createSession, paneStates, type TmuxServer } from '../src/ops/tmux.js';
import { ContextPool } from '../src/server/contexts.js';
import { Lifecycle } from '../src/server/lifecycle.js';
import type { Logger } from '../src/server/log.js';
import { Backends } from '../src/services/backends.js';
import { SessionManager } from '../src/services/session-manager.js';
import { openStore, type Store } from '../src/store/db.js';
import { TmuxRuntime } from '../src/strategies/tmux-runtime.js';
import { startLinkProxy, type LinkProxy } from './helpers/link-proxy.js';
import { waitUntil } from './helpers/node-daemon.js';
import { targetFor, tmuxSocket } from './helpers/ssh-env.js';
import { sshdSkipReason, startSshd, type TestSshd } from './helpers/sshd.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping sweep-over-SSH tests: ${skip}`);

const RUNNING = 10;
const silentLog: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe.skipIf(skip !== undefined)('batched sweeps over SSH', () => {
  let sshd: TestSshd;
  let work: string;
  let store: Store;
  const serverA = tmuxSocket();
  const serverB = tmuxSocket();
  const cleanups: Array<() => unknown> = [];

  /** An ennio.yaml with one remote project (strategy tmux) on `port`. */
  function writeConfig(name: string, project: string, port: number): string {
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'ennio.yaml');
    writeFileSync(path, [
      'projects:',
      `  - name: ${project}`,
      `    path: ${join(work, 'repo')}`,
      '    agent: custom',
      "    agent_config: { command: 'cat' }",
      '    ssh_config:',
      '      host: 127.0.0.1',
      `      port: ${port}`,
      '      username: root',
      `      auth: { type: key, path: ${sshd.clientKey} }`,
      `      known_hosts_path: ${join(work, 'known_hosts')}`,
      '      use_ssh_config: false',
      '      connection_timeout: 15s',
      `      remote_dir: ${join(work, 'remote')}`,
      '',
    ].join('\n'));
    return path;
  }

  /** A running-session record whose runtime is tmux session `name` on `server`. */
  function record(id: string, project: string, name: string, server: TmuxServer): void {
    const handle = { id: name, runtimeName: 'tmux', data: { ...(server.socket ? { socket: server.socket } : {}) } };
    store.sessions.insert({
      id, project, status: 'running', agent: 'custom', runtime_name: 'tmux', backend: 'ssh:tmux', host: 'root@127.0.0.1',
      branch: `ennio/${id}`, workspace_path: join(work, 'ws', id), workspace_type: 'worktree', repo_path: join(work, 'repo'),
      runtime_handle: JSON.stringify(handle),
    });
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ennio-sweep-'));
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    sshd = await startSshd({ logLevel: 'INFO' });
    cleanups.push(() => sshd.stop());
    cleanups.push(() => serverA.kill(), () => serverB.kill());
    store = openStore(join(work, 'home'));
    cleanups.push(() => store.close());
    cleanups.push(() => closeAllSshHosts());
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('checks every session of a host with one remote command, recording running → exited', async () => {
    const configPath = writeConfig('one', 'alpha', sshd.port);
    const { config } = loadConfig(configPath);
    const backends = new Backends(config, join(work, 'home'));
    const manager = new SessionManager(config, dirname(configPath), store.sessions, store.events, backends);
    const host = await sshHostForConfig(config.projects[0]!.ssh_config!);
    const a = { socket: serverA.socket };
    const b = { socket: serverB.socket };
    for (let i = 0; i < RUNNING; i++) {
      await createSession(host, i % 3 === 0 ? b : a, { name: `run-${i}`, cwd: '/tmp', env: {}, command: ['cat'] });
      record(`alpha-run-${i}`, 'alpha', `run-${i}`, i % 3 === 0 ? b : a);
    }
    await createSession(host, a, { name: 'quits', cwd: '/tmp', env: {}, command: ['sh', '-c', 'exit 3'] });
    record('alpha-quits', 'alpha', 'quits', a);
    record('alpha-gone', 'alpha', 'never-started', b);
    // tmux marks a pane dead when its pty closes, and knows the exit status a moment later.
    await waitUntil(() => paneStates(host, a), (p) => p.get('quits')?.exitStatus !== undefined, 'the quitting agent to exit');

    const before = host.commandCount;
    const views = await manager.list();
    expect(host.commandCount - before).toBe(1);
    const status = Object.fromEntries(views.map((v) => [v.id, v.status]));
    for (let i = 0; i < RUNNING; i++) expect(status[`alpha-run-${i}`]).toBe('running');
    expect(status['alpha-quits']).toBe('exited');
    expect(status['alpha-gone']).toBe('exited');
    expect(store.sessions.get('alpha-quits')?.exit_code).toBe(3);
    // The exit, then what it means for the agent's activity (src/activity).
    const exitedActivity = ['activity', expect.objectContaining({ activity: 'exited', previous: null })];
    expect(store.events.list('alpha-quits').map((e) => [e.type, e.detail])).toEqual([['exited', { observed: 'agent process exited', exit_code: 3 }], exitedActivity]);
    expect(store.events.list('alpha-gone').map((e) => [e.type, e.detail])).toEqual([['exited', { observed: 'runtime gone' }], exitedActivity]);
    expect(views.some((v) => v.unreachable)).toBe(false);

    // The next sweep: one command again, and nothing recorded twice.
    const again = host.commandCount;
    await manager.list();
    expect(host.commandCount - again).toBe(1);
    expect(store.events.list('alpha-quits')).toHaveLength(2);
  });

  it('runs probes another feature registers for the host in that same command', async () => {
    const configPath = writeConfig('one', 'alpha', sshd.port);
    const { config } = loadConfig(configPath);
    const manager = new SessionManager(config, dirname(configPath), store.sessions, store.events, new Backends(config, join(work, 'home')));
    const host = await sshHostForConfig(config.projects[0]!.ssh_config!);
    const stateDir = join(work, 'states');
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, 'alpha-run-1.state'), 'working');
    writeFileSync(join(stateDir, 'alpha-run-2.state'), 'waiting');
    const activity = (): HostProbe[] => [{ key: 'activity', argv: ['sh', '-c', 'cd "$1" && for f in *.state; do printf "%s=%s\\n" "${f%.state}" "$(cat "$f")"; done', 'sh', stateDir] }];
    const plan = await manager.planSweep();
    const before = host.commandCount;
    const report = await sweep(plan.targets, { extraProbes: [activity] });
    expect(host.commandCount - before).toBe(1);
    expect(report.hosts).toHaveLength(1);
    expect(report.hosts[0]?.probes?.get('activity')).toEqual({ code: 0, stdout: 'alpha-run-1=working\nalpha-run-2=waiting\n', stderr: '' });
    expect(report.checks.get('alpha-run-4')).toMatchObject({ ok: true, status: { state: 'running', currentCommand: 'cat' } });
  });

  it('splits a combined command exactly as if each probe had run alone (sh over SSH and locally)', async () => {
    const { config } = loadConfig(writeConfig('one', 'alpha', sshd.port));
    const ssh = await sshHostForConfig(config.projects[0]!.ssh_config!);
    const probes: HostProbe[] = [
      { key: 'no-newline', argv: ['printf', '%s', "it's\tdone"] },
      { key: 'fails', argv: ['sh', '-c', 'echo out; echo err >&2; exit 4'] },
      { key: 'missing-tool', argv: ['no-such-program-ennio'] },
      { key: 'empty', argv: ['true'] },
      { key: 'no-server', argv: ['tmux', '-L', `ennio-none-${process.pid}`, 'list-panes', '-a'] },
    ];
    for (const host of [ssh, new LocalHost()] as Host[]) {
      const combined = await runHostProbes(host, probes);
      for (const p of probes) {
        const alone = await host.exec(p.argv);
        const got = combined.get(p.key);
        expect({ key: p.key, code: got?.code, stdout: got?.stdout }).toEqual({ key: p.key, code: alone.code, stdout: alone.stdout });
        if (p.key !== 'missing-tool') expect(got?.stderr).toBe(alone.stderr); // "not found" wording differs between spawn and sh
      }
    }
  });

  it('sweeps several configs sharing the host as one, answers status from the latest sweep, records unreachable and back', async () => {
    const proxy: LinkProxy = await startLinkProxy(sshd.port);
    cleanups.push(() => proxy.close());
    const pool = new ContextPool(store, join(work, 'home'));
    const callerOf = (configPath: string): { cwd: string; env: NodeJS.ProcessEnv; config: string } => ({ cwd: work, env: { ...process.env }, config: configPath });
    // Two configs on the shared sshd, one on the relay that will go down.
    const beta = pool.get(callerOf(writeConfig('beta', 'beta', sshd.port)));
    const gamma = pool.get(callerOf(writeConfig('gamma', 'gamma', sshd.port)));
    const delta = pool.get(callerOf(writeConfig('delta', 'delta', proxy.port)));
    const a = { socket: serverA.socket };
    const host = await sshHostForConfig(beta.config.projects[0]!.ssh_config!);
    for (const [id, project] of [['beta-1', 'beta'], ['beta-2', 'beta'], ['gamma-1', 'gamma'], ['delta-1', 'delta']] as const) {
      await createSession(host, a, { name: id, cwd: '/tmp', env: {}, command: ['cat'] });
      record(id, project, id, a);
    }
    let now = Date.now();
    const gate = new ReconnectGate({ now: () => now, random: () => 0.5 });
    const lifecycle = new Lifecycle(pool, () => 60_000, silentLog, store.events, () => undefined, gate);

    const before = host.commandCount;
    await lifecycle.sweepAll();
    expect(host.commandCount - before).toBe(1); // beta and gamma: one host, one command
    const listed = await lifecycle.list(beta);
    expect(listed.sessions.map((s) => [s.id, s.status])).toEqual([['beta-1', 'running'], ['beta-2', 'running']]);
    expect((await lifecycle.list(gamma)).sessions.map((s) => s.status)).toEqual(['running']);
    expect(host.commandCount - before).toBe(1); // answered from the sweep, with its time
    expect(listed.at).toBe(lifecycle.lastReport?.at);
    expect((await lifecycle.list(delta)).sessions.map((s) => [s.id, s.status, s.unreachable])).toEqual([['delta-1', 'running', undefined]]);

    // delta's host goes down: unreachable with its reason, one 'status' event, no retry within the backoff.
    const deltaHost = await sshHostForConfig(delta.config.projects[0]!.ssh_config!);
    proxy.refuse();
    await waitUntil(() => deltaHost.connected, (c) => !c, 'the dropped connection to be noticed');
    const acceptedAtCut = proxy.accepted;
    await lifecycle.sweepAll();
    const down = (await lifecycle.list(delta)).sessions[0];
    expect(down).toMatchObject({ id: 'delta-1', status: 'running', unreachable_reason: 'no connection', unreachable_code: 'SSH_CONNECT' });
    const attempts = proxy.accepted - acceptedAtCut;
    expect(attempts).toBeGreaterThan(0);
    now += 500; // within the first backoff (1 s)
    await lifecycle.sweepAll();
    await lifecycle.sweepAll();
    expect(proxy.accepted - acceptedAtCut).toBe(attempts);
    expect((await lifecycle.list(delta)).sessions[0]?.unreachable).toMatch(/next try in \d+ s/);
    expect((await lifecycle.list(beta)).sessions.every((s) => s.status === 'running' && !s.unreachable)).toBe(true);
    expect(lifecycle.backoffs().map((b) => [b.key, b.failures])).toEqual([[`host:root@127.0.0.1:${proxy.port}`, 1]]);
    const statusEvents = (): Array<Record<string, unknown>> => store.events.list('delta-1').filter((e) => e.type === 'status').map((e) => e.detail);
    expect(statusEvents()).toEqual([expect.objectContaining({ reachable: false, reason: 'no connection', code: 'SSH_CONNECT' })]);

    // Back: the next attempt after the backoff finds it, and says so once.
    proxy.admit();
    now += 1000;
    await lifecycle.sweepAll();
    expect((await lifecycle.list(delta)).sessions[0]).toMatchObject({ id: 'delta-1', status: 'running' });
    expect((await lifecycle.list(delta)).sessions[0]?.unreachable).toBeUndefined();
    expect(lifecycle.backoffs()).toEqual([]);
    expect(statusEvents()).toEqual([expect.objectContaining({ reachable: false }), { reachable: true, after: 'no connection' }]);
  });
});

describe.skipIf(skip !== undefined)('reconnect backoff against a host that is down', () => {
  let sshd: TestSshd;
  let proxy: LinkProxy;
  let work: string;
  const server = tmuxSocket();
  const registry = new SshHostRegistry();

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ennio-backoff-'));
    sshd = await startSshd({ logLevel: 'INFO' });
    proxy = await startLinkProxy(sshd.port);
  });
  afterAll(async () => {
    try {
      await registry.closeAll();
      await proxy?.close();
    } finally {
      server.kill();
      await sshd?.stop();
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('spaces attempts out (1, 2, 4, 8, 16 s …) while it is down, then recovers', async () => {
    // One TCP connect per attempt (no quick retries inside an attempt), so connects = attempts.
    const host: SshHost = registry.get(targetFor(sshd, join(work, 'known_hosts'), { port: proxy.port, host_key_policy: 'accept_new' }), { warn: () => undefined, retryDelaysMs: [] });
    const tmux = { socket: server.socket };
    for (const name of ['b1', 'b2', 'b3']) await createSession(host, tmux, { name, cwd: '/tmp', env: {}, command: ['cat'] });
    const runtime = new TmuxRuntime(host);
    const targets: SweepTarget[] = ['b1', 'b2', 'b3'].map((id) => ({ id, runtime, handle: { id, runtimeName: 'tmux', data: { socket: server.socket } } }));
    let now = 1_000_000;
    const gate = new ReconnectGate({ now: () => now, random: () => 0.5 });
    expect((await sweep(targets, { gate })).hosts[0]).toMatchObject({ calls: 1, sessions: 3 });

    proxy.refuse();
    await waitUntil(() => host.connected, (c) => !c, 'the dropped connection to be noticed');
    const cut = { at: now, accepted: proxy.accepted };
    const attemptsAt: number[] = [];
    // A sweep every 2 s for a minute of (simulated) time.
    for (let t = 0; t <= 60_000; t += 2000) {
      now = cut.at + t;
      const acceptedBefore = proxy.accepted;
      const report = await sweep(targets, { gate });
      const h = report.hosts[0]!;
      if (h.calls > 0) attemptsAt.push(t);
      else expect(proxy.accepted).toBe(acceptedBefore); // held back: no connection attempt at all
      for (const id of ['b1', 'b2', 'b3']) expect(report.checks.get(id)).toMatchObject({ ok: false, error: { code: 'SSH_CONNECT' } });
    }
    expect(attemptsAt).toEqual([0, 2000, 4000, 8000, 16_000, 32_000]); // 6 attempts in 31 sweeps
    expect(proxy.accepted - cut.accepted).toBeLessThanOrEqual(attemptsAt.length);

    proxy.admit();
    const failing = gate.snapshot().map(([, f]) => f);
    expect(failing).toHaveLength(1);
    now = failing[0]!.retryAt;
    const back = await sweep(targets, { gate });
    expect(back.hosts[0]).toMatchObject({ calls: 1, recovered: true });
    for (const id of ['b1', 'b2', 'b3']) expect(back.checks.get(id)).toMatchObject({ ok: true, status: { state: 'running' } });
    expect(gate.snapshot()).toEqual([]);
  });
});
