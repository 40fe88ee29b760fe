/**
 * ennio-node through a real OpenSSH sshd: the client deploys the bundled daemon over the
 * SSH connection, then every RPC goes over HTTP/2 inside one forwarded SSH channel.
 * Recovery (idle-out, daemon killed), token reuse, two hosts at once, upgrades.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEnnioError } from '../src/core/errors.js';
import { SshHostRegistry } from '../src/host/ssh/registry.js';
import type { SshHost } from '../src/host/ssh/ssh-host.js';
import { findBundle } from '../src/node/client/bundle.js';
import { TokenStore } from '../src/node/client/token-store.js';
import { Cleanup, buildDaemonBundle, git, gitRepo, isRunning, tempDir, tmux, waitUntil } from './helpers/node-daemon.js';
import { daemonPid, execTraceSkipReason, nodeEnv, RecordingSshHost, remoteNode, traceExecs } from './helpers/node-ssh.js';
import { sshdSkipReason, startSshd, type TestSshd } from './helpers/sshd.js';
import { targetFor } from './helpers/ssh-env.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping node-over-SSH tests: ${skip}`);
/** The stranger on the daemon port runs as nobody: needs root and setpriv. */
const strangerSkip = skip ?? (spawnSync('setpriv', ['--version']).status === 0 ? undefined : 'setpriv (util-linux) is not installed');
if (strangerSkip && !skip) console.log(`skipping the foreign-listener test: ${strangerSkip}`);
const traceSkip = execTraceSkipReason();

describe.skipIf(skip !== undefined)('ennio-node over SSH', () => {
  const cleanup = new Cleanup();
  const registry = new SshHostRegistry();
  let sshd: TestSshd;
  let host: SshHost;
  let dir: string;

  beforeAll(async () => {
    await buildDaemonBundle();
    dir = cleanup.dir(tempDir('nssh'));
    sshd = await startSshd();
    cleanup.add(() => sshd.stop());
    cleanup.add(() => registry.closeAll());
    host = registry.get(targetFor(sshd, join(dir, 'known_hosts')), { warn: () => undefined });
  });
  afterAll(() => cleanup.run());

  it('deploys the bundle, keeps the token out of argv and logs, and runs every RPC through the tunnel', async () => {
    const env = await nodeEnv(cleanup, join(dir, 'a'));
    const node = remoteNode(host, env);
    cleanup.add(() => node.close());
    const hb = await node.ensure();
    const bundle = findBundle();
    expect(node.deployments).toBe(1);
    expect(hb.buildId).toBe(bundle.sha256);
    expect(hb.workspaceRoot).toBe(env.workspaceRoot);
    const copy = join(env.remoteDir, bundle.sha256.slice(0, 16), 'ennio-node.cjs');
    expect(readFileSync(copy).equals(bundle.data)).toBe(true);
    expect(existsSync(`${copy}.upload`)).toBe(false);

    // The token: 0600 on both sides, the same on both sides, in no argv and no log.
    const remoteToken = readFileSync(join(env.remoteDir, 'token'), 'utf8').trim();
    expect(statSync(join(env.remoteDir, 'token')).mode & 0o777).toBe(0o600);
    expect(new TokenStore(env.ennioHome).get(host.label)).toBe(remoteToken);
    expect(statSync(join(env.ennioHome, 'node', 'tokens', encodeURIComponent(host.label))).mode & 0o777).toBe(0o600);
    expect(spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout).not.toContain(remoteToken);
    expect(readFileSync(join(env.remoteDir, `daemon-${env.port}.log`), 'utf8')).not.toContain(remoteToken);
    expect(readFileSync(`/proc/${hb.pid}/cmdline`, 'utf8')).toContain('--auth-token-file');

    // Every RPC, end to end.
    const repo = gitRepo(join(env.dir, 'repo'));
    const ws = await node.createWorkspace({ projectId: 'proj', sessionId: 'w1', type: 'worktree', path: repo, defaultBranch: 'main' });
    expect(ws.path).toBe(join(env.workspaceRoot, 'proj', 'w1'));
    expect(git(ws.path, 'branch', '--show-current')).toBe('ennio/w1');
    const h = await node.createRuntime({ sessionId: 'w1', name: 'w1', launchCommand: 'echo ready; exec cat', env: { X: '1' }, cwd: ws.path });
    await node.sendMessage(h, 'over the tunnel');
    const out = await waitUntil(() => node.getOutput(h, 20), (o) => o.includes('over the tunnel'), 'message echo');
    expect(out).toContain('ready');
    expect(await node.liveness(h)).toBe('running');
    expect(tmux(env.tmuxSocket, 'has-session', '-t', '=w1').code).toBe(0);
    await node.destroyRuntime(h);
    expect(await node.liveness(h)).toBe('missing');
    await node.destroyWorkspace(ws.path);
    expect(existsSync(ws.path)).toBe(false);
    expect((await node.heartbeat()).pid).toBe(hb.pid);
    expect(node.deployments).toBe(1);

    // A second orchestrator process (fresh objects, same ENNIO_HOME) reuses the daemon and token.
    const again = remoteNode(host, env);
    cleanup.add(() => again.close());
    expect((await again.ensure()).pid).toBe(hb.pid);
    expect(again.deployments).toBe(0);
  });

  it('re-deploys transparently after the daemon idled out, and the tmux session survives', async () => {
    const env = await nodeEnv(cleanup, join(dir, 'b'));
    const node = remoteNode(host, env, { idleTimeout: 5 });
    cleanup.add(() => node.close());
    const first = await node.ensure();
    const h = await node.createRuntime({ sessionId: 'i1', name: 'i1', launchCommand: 'echo alive; exec cat', env: {}, cwd: env.workspaceRoot });
    await waitUntil(() => isRunning(first.pid), (r) => !r, 'daemon to idle out', 20_000);
    expect(tmux(env.tmuxSocket, 'has-session', '-t', '=i1').code).toBe(0);
    expect(await node.getOutput(h, 10)).toContain('alive');
    expect(node.deployments).toBe(2);
    expect(daemonPid(env)).not.toBe(first.pid);
  });

  it('recovers when the daemon is killed mid-session; the agent keeps running', async () => {
    const env = await nodeEnv(cleanup, join(dir, 'c'));
    const node = remoteNode(host, env);
    cleanup.add(() => node.close());
    const first = await node.ensure();
    const h = await node.createRuntime({ sessionId: 'k1', name: 'k1', launchCommand: 'exec cat', env: {}, cwd: env.workspaceRoot });
    process.kill(first.pid, 'SIGKILL');
    await waitUntil(() => isRunning(first.pid), (r) => !r, 'daemon to die');
    expect(await node.liveness(h)).toBe('running');
    await node.sendMessage(h, 'after the crash');
    await waitUntil(() => node.getOutput(h, 10), (o) => o.includes('after the crash'), 'echo after restart');
    expect(node.deployments).toBe(2);
  });

  it('survives a dropped SSH connection without re-deploying', async () => {
    const env = await nodeEnv(cleanup, join(dir, 'g'));
    const node = remoteNode(host, env);
    cleanup.add(() => node.close());
    const first = await node.ensure();
    const h = await node.createRuntime({ sessionId: 'g1', name: 'g1', launchCommand: 'exec cat', env: {}, cwd: env.workspaceRoot });
    expect(sshd.killConnections()).toBeGreaterThan(0);
    expect(await node.liveness(h)).toBe('running'); // reconnects SSH, re-opens the tunnel
    expect((await node.heartbeat()).pid).toBe(first.pid);
    expect(node.deployments).toBe(1);
  });

  it('adopts the remote token when the local one is stale, and restarts for a configured token', async () => {
    const env = await nodeEnv(cleanup, join(dir, 'h'));
    const node = remoteNode(host, env);
    cleanup.add(() => node.close());
    const first = await node.ensure();
    const remoteToken = readFileSync(join(env.remoteDir, 'token'), 'utf8').trim();
    new TokenStore(env.ennioHome).set(host.label, 'stale-token');
    const adopting = remoteNode(host, env);
    cleanup.add(() => adopting.close());
    expect((await adopting.ensure()).pid).toBe(first.pid);
    expect(adopting.deployments).toBe(0);
    expect(new TokenStore(env.ennioHome).get(host.label)).toBe(remoteToken);

    const configured = remoteNode(host, env, { token: 'from-ennio-yaml-123' });
    cleanup.add(() => configured.close());
    const restarted = await configured.ensure();
    expect(restarted.pid).not.toBe(first.pid);
    expect(configured.deployments).toBe(1);
    expect(readFileSync(join(env.remoteDir, 'token'), 'utf8').trim()).toBe('from-ennio-yaml-123');
  });

  it('says so when another service owns the daemon port, without deploying', async () => {
    const env = await nodeEnv(cleanup, join(dir, 'i'));
    const other = createServer((_req, res) => res.end('not grpc'));
    await new Promise<void>((resolve) => other.listen(env.port, '127.0.0.1', () => resolve()));
    const node = remoteNode(host, env);
    cleanup.add(() => node.close());
    const err = await node.ensure().catch((e: unknown) => e);
    await new Promise<void>((resolve) => other.close(() => resolve()));
    expect(isEnnioError(err, 'NODE_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain(`port ${env.port} on ${host.label} answers, but not as ennio-node`);
    expect(node.deployments).toBe(0);
  });

  it('serves two SSH hosts at once without a local listener or port collisions', async () => {
    const sshd2 = await startSshd();
    cleanup.add(() => sshd2.stop());
    const host2 = registry.get(targetFor(sshd2, join(dir, 'known_hosts2')), { warn: () => undefined });
    const [e1, e2] = [await nodeEnv(cleanup, join(dir, 'd1')), await nodeEnv(cleanup, join(dir, 'd2'))];
    const n1 = remoteNode(host, e1);
    const n2 = remoteNode(host2, e2);
    cleanup.add(() => n1.close());
    cleanup.add(() => n2.close());
    const [hb1, hb2] = await Promise.all([n1.ensure(), n2.ensure()]);
    expect(hb1.pid).not.toBe(hb2.pid);
    const [h1, h2] = await Promise.all([
      n1.createRuntime({ sessionId: 't1', name: 't1', launchCommand: 'echo one; exec cat', env: {}, cwd: e1.workspaceRoot }),
      n2.createRuntime({ sessionId: 't2', name: 't2', launchCommand: 'echo two; exec cat', env: {}, cwd: e2.workspaceRoot }),
    ]);
    const outs = await Promise.all([
      waitUntil(() => n1.getOutput(h1, 5), (o) => o.includes('one'), 'one'),
      waitUntil(() => n2.getOutput(h2, 5), (o) => o.includes('two'), 'two'),
    ]);
    expect(outs[0]).not.toContain('two');
    expect(outs[1]).not.toContain('one');
    // The tunnels are SSH channels: this process listens on no TCP port for them.
    const ss = spawnSync('ss', ['-ltnpH'], { encoding: 'utf8' });
    if (ss.status === 0) expect(ss.stdout).not.toContain(`pid=${process.pid},`);
  });

  it('upgrades a daemon whose build differs from the local bundle', async () => {
    const env = await nodeEnv(cleanup, join(dir, 'e'));
    const oldBundle = await buildDaemonBundle({ outfile: join(dir, 'old', 'ennio-node.cjs'), version: '0.0.1-old' });
    const old = remoteNode(host, env, { bundlePath: oldBundle });
    cleanup.add(() => old.close());
    const before = await old.ensure();
    expect(before.version).toBe('0.0.1-old');
    const node = remoteNode(host, env);
    cleanup.add(() => node.close());
    const after = await node.ensure();
    expect(after.version).not.toBe('0.0.1-old');
    expect(after.buildId).toBe(findBundle().sha256);
    expect(after.pid).not.toBe(before.pid);
    expect(isRunning(before.pid)).toBe(false);
    expect(node.deployments).toBe(1);
  });

  it('two orchestrators deploying to one fresh remote at once end with one daemon and one token both use', async () => {
    const env = await nodeEnv(cleanup, join(dir, 'race'));
    // Two orchestrators: their own SSH connections, their own ENNIO_HOME token stores.
    const [regA, regB] = [new SshHostRegistry(), new SshHostRegistry()];
    cleanup.add(() => regA.closeAll());
    cleanup.add(() => regB.closeAll());
    const hostA = regA.get(targetFor(sshd, join(dir, 'known_hosts')), { warn: () => undefined });
    const hostB = regB.get(targetFor(sshd, join(dir, 'known_hosts')), { warn: () => undefined });
    const a = remoteNode(hostA, env);
    const b = remoteNode(hostB, { ...env, ennioHome: join(env.dir, 'ennio-home-b') });
    cleanup.add(() => a.close());
    cleanup.add(() => b.close());

    const [hbA, hbB] = await Promise.all([a.ensure(), b.ensure()]);
    expect(hbA.pid).toBe(hbB.pid);
    expect(a.deployments + b.deployments).toBe(1);
    // The pid file names the daemon that runs (no second daemon lost the race for the port).
    expect(daemonPid(env)).toBe(hbA.pid);
    const fileToken = readFileSync(join(env.remoteDir, 'token'), 'utf8').trim();
    expect(new TokenStore(env.ennioHome).get(host.label)).toBe(fileToken);
    expect(new TokenStore(join(env.dir, 'ennio-home-b')).get(host.label)).toBe(fileToken);
    expect(existsSync(join(env.remoteDir, `deploy-${env.port}.lock`))).toBe(false);

    // Both keep working after the race: each makes a session and reads the other's.
    const ha = await a.createRuntime({ sessionId: 'ra', name: 'ra', launchCommand: 'echo from-a; exec cat', env: {}, cwd: env.workspaceRoot });
    const hb = await b.createRuntime({ sessionId: 'rb', name: 'rb', launchCommand: 'echo from-b; exec cat', env: {}, cwd: env.workspaceRoot });
    await waitUntil(() => b.getOutput(ha, 5), (o) => o.includes('from-a'), 'a session seen by b');
    await waitUntil(() => a.getOutput(hb, 5), (o) => o.includes('from-b'), 'b session seen by a');
  });

  it.skipIf(strangerSkip !== undefined)('refuses to send the token to a daemon port another user listens on', async () => {
    const env = await nodeEnv(cleanup, join(dir, 'stranger'));
    // This orchestrator talked to the host before: it has a token it would send.
    const secret = `only-for-our-daemon-${Date.now().toString(36)}`;
    new TokenStore(env.ennioHome).set(host.label, secret);
    const script = "const s=require('net').createServer((c)=>{process.stdout.write('connection\\n');c.on('data',(d)=>process.stdout.write('data '+d.toString('latin1')+'\\n'))});s.listen(Number(process.argv[1]),'127.0.0.1',()=>process.stdout.write('listening\\n'))";
    const stranger = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script, String(env.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<void>((resolve) => stranger.once('exit', () => resolve()));
    cleanup.add(async () => {
      if (stranger.exitCode === null && stranger.signalCode === null) {
        stranger.kill('SIGKILL');
        await exited;
      }
    });
    let heard = '';
    stranger.stdout.on('data', (d: Buffer) => (heard += d.toString('latin1')));
    stranger.stderr.on('data', (d: Buffer) => (heard += d.toString('latin1')));
    await waitUntil(() => heard, (h) => h.includes('listening') || stranger.exitCode !== null, 'the stranger to listen');
    expect(heard).toContain('listening');

    const node = remoteNode(host, env);
    cleanup.add(() => node.close());
    const err = await node.ensure().catch((e: unknown) => e);
    expect(isEnnioError(err, 'NODE_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toContain(`port ${env.port} on ${host.label}`);
    expect((err as Error).message).toContain('another user (uid 65534)');
    expect((err as { hint?: string }).hint).toContain('node_config.port');
    expect(node.deployments).toBe(0);
    const status = await node.status();
    expect(status).toMatchObject({ kind: 'refused', reachable: false });
    // Not a byte went to the stranger (so neither did the token).
    expect(heard).not.toContain('connection');
    expect(heard).not.toContain(secret);
  });

  it('never puts the token in a remote command line or environment during a deploy (every exec recorded)', async () => {
    const env = await nodeEnv(cleanup, join(dir, 'rec'));
    // Its own sshd, so every process of this deploy on the "remote" side can be traced.
    const own = await startSshd();
    cleanup.add(() => own.stop());
    const trace = traceSkip === undefined ? await traceExecs(own.pid, join(dir, 'rec-execve.log')) : undefined;
    if (trace) cleanup.add(async () => void (await trace.stop()));
    else console.log(`not tracing execve on the remote side: ${traceSkip}`);
    const recorder = new RecordingSshHost(targetFor(own, join(dir, 'known_hosts_rec')), { warn: () => undefined });
    cleanup.add(() => recorder.close());
    const node = remoteNode(recorder, env);
    cleanup.add(() => node.close());
    const hb = await node.ensure();
    await node.createRuntime({ sessionId: 'rec1', name: 'rec1', launchCommand: 'exec cat', env: {}, cwd: env.workspaceRoot });
    const execve = trace ? await trace.stop() : undefined;
    const token = readFileSync(join(env.remoteDir, 'token'), 'utf8').trim();

    // What the client asked SshHost to run: the token travelled on stdin only, once.
    expect(recorder.execs.length).toBeGreaterThan(5);
    expect(recorder.execs.filter((e) => e.input?.includes(token))).toHaveLength(1);
    expect(recorder.leaking(token)).toEqual([]);
    expect(recorder.forwards.every((f) => f.host === '127.0.0.1' && f.port === env.port)).toBe(true);
    // What really ran on the remote, however briefly: every execve's argv and environment.
    if (execve !== undefined) {
      expect(execve).toContain('ennio-node-deploy'); // the deploy scripts were seen…
      expect(execve).toContain('--auth-token-file'); // …and the daemon's own exec
      expect(execve).not.toContain(token);
      expect(execve).not.toContain(Buffer.from(`${token}\n`).toString('base64'));
    }
    // …and after the fact: not in ps, not in the daemon's command line or log.
    expect(spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout).not.toContain(token);
    expect(readFileSync(`/proc/${hb.pid}/cmdline`, 'utf8')).not.toContain(token);
    expect(readFileSync(join(env.remoteDir, `daemon-${env.port}.log`), 'utf8')).not.toContain(token);
  });
});
