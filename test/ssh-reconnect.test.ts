/** A dropped connection is noticed and re-established; remote tmux sessions survive it. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEnnioError } from '../src/core/errors.js';
import { SshHostRegistry } from '../src/host/ssh/registry.js';
import type { SshHost } from '../src/host/ssh/ssh-host.js';
import { capture, createSession, liveness } from '../src/ops/tmux.js';
import { freePort, sshdSkipReason, startSshd, type TestSshd } from './helpers/sshd.js';
import { targetFor, tmuxSocket } from './helpers/ssh-env.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping SSH reconnect tests: ${skip}`);

describe.skipIf(skip !== undefined)('reconnect', () => {
  let sshd: TestSshd;
  const registry = new SshHostRegistry();
  let host: SshHost;
  const tmux = tmuxSocket();
  const server = { socket: tmux.socket };

  beforeAll(async () => {
    sshd = await startSshd();
    host = registry.get(targetFor(sshd, join(sshd.dir, 'kh')), { warn: () => undefined });
  });
  afterAll(async () => {
    try {
      await registry.closeAll();
    } finally {
      tmux.kill();
      await sshd?.stop();
    }
  });

  function dropped(): Promise<unknown> {
    return new Promise((resolve) => {
      const off = host.connection.onDrop((err) => {
        off();
        resolve(err);
      });
    });
  }

  it('reconnects on the next exec after sshd killed the connection; tmux session still there', async () => {
    await createSession(host, server, { name: 'survivor', cwd: '/tmp', env: {}, command: ['sh', '-c', 'echo alive-marker; exec sleep 600'] });
    expect(await liveness(host, server, 'survivor')).toBe('running');
    expect(host.connection.connects).toBe(1);

    const drop = dropped();
    expect(sshd.killConnections()).toBeGreaterThan(0);
    const err = await drop;
    expect(isEnnioError(err, 'SSH_CONNECT')).toBe(true);
    expect(host.connected).toBe(false);

    expect(await liveness(host, server, 'survivor')).toBe('running');
    expect(host.connection.connects).toBe(2);
    expect(await capture(host, server, 'survivor', 10)).toContain('alive-marker');
  });

  it('fails an operation in flight with SSH_CONNECT (not an exit status), then recovers', async () => {
    // A duration no other test uses, so pgrep/pkill below only ever see this process.
    const marker = `30.${process.pid}${Date.now() % 100000}`;
    const running = host.exec(['sleep', marker]);
    // Wait until the command is really running on the far side.
    const seen = await host.exec(['sh', '-c', 'for i in $(seq 100); do pgrep -f "^sleep $1$" >/dev/null && exit 0; sleep 0.05; done; exit 1', 'wait', marker]);
    expect(seen.code).toBe(0);
    const drop = dropped();
    sshd.killConnections();
    const err: unknown = await running.catch((e: unknown) => e);
    await drop;
    expect(isEnnioError(err, 'SSH_CONNECT')).toBe(true);
    expect((await host.exec(['echo', 'back'])).stdout).toBe('back\n');
    // The orphaned sleep would outlive the test otherwise.
    expect((await host.exec(['pkill', '-f', `^sleep ${marker}$`])).code).toBe(0);
  });

  it('reports an unreachable host as SSH_CONNECT after retrying', async () => {
    // Nothing listens on a port that was just free.
    const target = { ...targetFor(sshd, join(sshd.dir, 'kh')), port: await freePort() };
    const h = registry.get(target, { warn: () => undefined, retryDelaysMs: [10, 20] });
    const err: unknown = await h.exec(['true']).catch((e: unknown) => e);
    expect(isEnnioError(err, 'SSH_CONNECT')).toBe(true);
    expect(String((err as Error).message)).toMatch(/connection refused/);
  });
});
