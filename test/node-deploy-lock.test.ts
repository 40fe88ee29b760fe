/**
 * The remote deploy lock against a real sshd: it records the deployer's SSH connection
 * (sshd pid + start time), a lock whose holder is gone is taken over at once (not after
 * LOCK_STALE_SECS), and a live holder is waited for with a progress line saying so.
 * A "deployer" here is a real OpenSSH client holding the lock in its remote shell, killed
 * with SIGKILL like an ennio killed mid-deploy.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withProgressSink } from '../src/core/progress.js';
import { SshHostRegistry } from '../src/host/ssh/registry.js';
import type { SshHost } from '../src/host/ssh/ssh-host.js';
import { LOCK_STALE_SECS, parseLockHolder } from '../src/node/client/deploy-lock.js';
import { tryLock, unlock } from '../src/node/client/deploy.js';
import { LOCK } from '../src/node/client/remote-scripts.js';
import { Cleanup, buildDaemonBundle, isRunning, tempDir, waitUntil } from './helpers/node-daemon.js';
import { nodeEnv, remoteNode, type NodeEnv } from './helpers/node-ssh.js';
import { sshdSkipReason, startSshd, type TestSshd } from './helpers/sshd.js';
import { targetFor } from './helpers/ssh-env.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping deploy-lock tests: ${skip}`);

/** Far below LOCK_STALE_SECS, far above anything a loaded machine needs to take a free lock. */
const TAKEOVER_BOUND_MS = 60_000;

function procStart(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19] ?? '';
}

function parentOf(pid: number): number {
  return Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

describe.skipIf(skip !== undefined)('ennio-node deploy lock', () => {
  const cleanup = new Cleanup();
  const registry = new SshHostRegistry();
  let sshd: TestSshd;
  let host: SshHost;
  let dir: string;

  beforeAll(async () => {
    await buildDaemonBundle();
    dir = cleanup.dir(tempDir('dlock'));
    sshd = await startSshd();
    cleanup.add(() => sshd.stop());
    cleanup.add(() => registry.closeAll());
    host = registry.get(targetFor(sshd, join(dir, 'known_hosts')), { warn: () => undefined });
  });
  afterAll(() => cleanup.run());

  const lockPath = (env: NodeEnv): string => join(env.remoteDir, `deploy-${env.port}.lock`);

  /**
   * Another "ennio" mid-deploy: an OpenSSH client whose remote shell took the lock with
   * the real LOCK script and then keeps the connection open. Resolves once it holds it.
   */
  async function deployerHolding(env: NodeEnv): Promise<ChildProcess> {
    const script = `( ${LOCK}\n) || exit 1\necho holding\nexec sleep 600\n`;
    const child = spawn(
      'ssh',
      ['-i', sshd.clientKey, '-p', String(sshd.port), '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', 'root@127.0.0.1', 'sh', '-s', '--', env.remoteDir, String(env.port), 'feedface', String(LOCK_STALE_SECS)],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    cleanup.add(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    child.stdin.end(script);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitUntil(() => out, (o) => o.includes('holding') || child.exitCode !== null, 'the other deployer to take the lock', 30_000);
    expect(out).toContain('lock=1');
    return child;
  }

  function killed(child: ChildProcess): Promise<void> {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    return exited;
  }

  it("records the deployer's SSH connection (sshd pid and start time) in the lock, and releases it", async () => {
    const env = await nodeEnv(cleanup, join(dir, 'record'));
    const node = remoteNode(host, env);
    cleanup.add(() => node.close());
    expect((await tryLock(node.target, 'abc123', LOCK_STALE_SECS)).locked).toBe(true);
    const content = readlinkSync(lockPath(env));
    const [owner, since, pid, start, ...rest] = content.split('.');
    expect(owner).toBe('abc123');
    expect(Math.abs(Number(since) - Date.now() / 1000)).toBeLessThan(600);
    expect(rest.join('.')).toBe(hostname());
    // The holder is the per-connection sshd under our test sshd, named with its start time.
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toMatch(/^sshd/);
    expect(start).toBe(procStart(Number(pid)));
    let p = Number(pid);
    while (p > 1 && p !== sshd.pid) p = parentOf(p);
    expect(p).toBe(sshd.pid);

    // Held by a live connection: another owner does not get it, and is told it is alive.
    const other = await tryLock(node.target, 'def456', LOCK_STALE_SECS);
    expect(other).toMatchObject({ locked: false, holder: content, holderAlive: true });
    await unlock(node.target, 'abc123');
    expect(existsSync(lockPath(env))).toBe(false);
  });

  it('takes over at once a lock whose holder is gone (pid dead, or reused by another process)', async () => {
    const env = await nodeEnv(cleanup, join(dir, 'dead'));
    mkdirSync(env.remoteDir, { recursive: true });
    // A holder that existed and exited: its pid and start time, now gone.
    const gone = spawn('sleep', ['600']);
    const gonePid = gone.pid!;
    const goneStart = procStart(gonePid);
    await killed(gone);
    const stale = `0badc0de.${Math.floor(Date.now() / 1000)}.${gonePid}.${goneStart}.${hostname()}`;
    symlinkSync(stale, lockPath(env));

    const warnings: string[] = [];
    const node = remoteNode(host, env, { warn: (m) => warnings.push(m) });
    cleanup.add(() => node.close());
    const startedAt = Date.now();
    const hb = await node.ensure();
    expect(Date.now() - startedAt).toBeLessThan(TAKEOVER_BOUND_MS);
    expect(node.deployments).toBe(1);
    expect(isRunning(hb.pid)).toBe(true);
    expect(warnings.join('\n')).toContain(`sshd pid ${gonePid}`);
    expect(existsSync(lockPath(env))).toBe(false);

    // A live pid whose start time differs is a reused pid: the holder is gone too.
    const reuse = `0badc0de.${Math.floor(Date.now() / 1000)}.${process.pid}.1.${hostname()}`;
    symlinkSync(reuse, lockPath(env));
    const res = await tryLock(node.target, 'fedcba', LOCK_STALE_SECS);
    expect(res).toMatchObject({ locked: true, broke: reuse });
    expect(parseLockHolder(readlinkSync(lockPath(env)))).toMatchObject({ hostname: hostname() });
    await unlock(node.target, 'fedcba');
  });

  it('waits for a live deployer saying so, and takes over within seconds once it is killed -9', async () => {
    const env = await nodeEnv(cleanup, join(dir, 'live'));
    const deployer = await deployerHolding(env);
    const held = readlinkSync(lockPath(env));
    const holderPid = parseLockHolder(held).pid;
    expect(holderPid).toBeDefined();

    const progress: string[] = [];
    const node = remoteNode(host, env, { warn: () => undefined });
    cleanup.add(() => node.close());
    const ensured = withProgressSink((text) => progress.push(text), () => node.ensure());
    ensured.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    await waitUntil(() => progress.join('\n'), (p) => p.includes('waiting for another ennio'), 'a progress line about the wait', 30_000);
    expect(progress.join('\n')).toContain(`sshd pid ${holderPid}`);
    expect(progress.join('\n')).toContain('still connected');
    // Still waiting: nothing deployed, the lock still the other deployer's.
    expect(node.deployments).toBe(0);
    expect(readlinkSync(lockPath(env))).toBe(held);

    const killedAt = Date.now();
    await killed(deployer);
    const hb = await ensured;
    expect(Date.now() - killedAt).toBeLessThan(TAKEOVER_BOUND_MS);
    expect(node.deployments).toBe(1);
    expect(isRunning(hb.pid)).toBe(true);
    expect(existsSync(lockPath(env))).toBe(false);
    // The wait line is cleared once the lock is ours.
    expect(progress.at(-1)).toBe('');
  });
});

