/** The channel pool under sshd session limits (MaxSessions). */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SshHostRegistry } from '../src/host/ssh/registry.js';
import { sshdSkipReason, startSshd, type TestSshd } from './helpers/sshd.js';
import { targetFor } from './helpers/ssh-env.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping SSH pool tests: ${skip}`);

describe.skipIf(skip !== undefined)('channel pool', () => {
  const sshds: TestSshd[] = [];
  const registry = new SshHostRegistry();
  afterEach(async () => {
    await registry.closeAll();
  });
  afterAll(async () => {
    for (const s of sshds.splice(0)) await s.stop();
  });

  async function hostWith(maxSessions: number, poolMax?: number) {
    const sshd = await startSshd({ maxSessions });
    sshds.push(sshd);
    return registry.get(targetFor(sshd, join(sshd.dir, 'kh')), { warn: () => undefined, ...(poolMax ? { max: poolMax } : {}) });
  }

  it.each([
    [10, undefined],
    [2, 4],
    [1, 8],
  ])('runs 50 concurrent operations with MaxSessions %i (pool max %s)', async (maxSessions, poolMax) => {
    const host = await hostWith(maxSessions, poolMax);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => host.exec(['sh', '-c', 'sleep 0.02; printf "%s" "$1"; printf "e%s" "$1" >&2', 'sh', String(i)])),
    );
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
    expect(results.map((r) => r.stderr)).toEqual(Array.from({ length: 50 }, (_, i) => `e${i}`));
    expect(results.every((r) => r.code === 0)).toBe(true);
    expect(host.channelCount).toBeGreaterThanOrEqual(1);
    expect(host.channelCount).toBeLessThanOrEqual(Math.min(maxSessions, poolMax ?? 4));
  });

  it('uploads a large file through the pooled shell when no extra session is allowed', async () => {
    const host = await hostWith(1);
    await host.exec(['true']); // the pool now holds the only session
    const data = randomBytes(200_000);
    const dest = join(sshds.at(-1)?.dir ?? '/nonexistent', 'up.bin');
    await host.uploadFile(data, dest, 0o700);
    expect(readFileSync(dest).equals(data)).toBe(true);
  });

  it('waits for a session slot when the server refuses every channel', async () => {
    const host = await hostWith(1);
    // Someone else holds the only session for a moment.
    const other = await host.connection.openSession('sleep 1');
    other.resume();
    const closed = new Promise<void>((resolve) => other.on('close', () => resolve()));
    const res = await host.exec(['echo', 'got a slot']);
    expect(res.stdout).toBe('got a slot\n');
    await closed;
  });
});
