/** ProxyJump through one and two bastions (real sshds), with every hop's host key checked. */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isEnnioError } from '../src/core/errors.js';
import { SshHostRegistry } from '../src/host/ssh/registry.js';
import { sshdSkipReason, startSshd, type TestSshd } from './helpers/sshd.js';
import { targetFor, tempDir } from './helpers/ssh-env.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping ProxyJump tests: ${skip}`);

describe.skipIf(skip !== undefined)('ProxyJump', () => {
  let bastionA: TestSshd;
  let bastionB: TestSshd;
  let target: TestSshd;
  const dir = tempDir('ennio-jump-');
  const kh = join(dir.path, 'known_hosts');
  const registry = new SshHostRegistry();
  const quiet = { warn: () => undefined, retryDelaysMs: [] };

  beforeAll(async () => {
    bastionA = await startSshd({ logLevel: 'DEBUG1' });
    bastionB = await startSshd({ logLevel: 'DEBUG1' });
    target = await startSshd();
    // One key (the target's client key) opens all three, as a shared deploy key would.
    bastionA.authorize(`${target.clientKey}.pub`);
    bastionB.authorize(`${target.clientKey}.pub`);
  });
  afterEach(async () => {
    await registry.closeAll();
    rmSync(kh, { force: true });
  });
  afterAll(async () => {
    try {
      for (const s of [bastionA, bastionB, target]) await s?.stop();
    } finally {
      dir.remove();
    }
  });

  const jumpTo = (...bastions: TestSshd[]): string => bastions.map((b) => `root@127.0.0.1:${b.port}`).join(',');

  it('reaches the target through one bastion and records both host keys (accept_new)', async () => {
    const host = registry.get(targetFor(target, kh, { proxy_jump: jumpTo(bastionA) }), quiet);
    expect((await host.exec(['cat', join(target.dir, 'sshd_config')])).stdout).toContain(`Port ${target.port}`);
    // The bastion forwarded a TCP connection to the target's port.
    expect(bastionA.log()).toMatch(new RegExp(`direct-tcpip.*127\\.0\\.0\\.1.*port ${target.port}|target 127\\.0\\.0\\.1 port ${target.port}`));
    const lines = readFileSync(kh, 'utf8');
    expect(lines).toContain(`[127.0.0.1]:${bastionA.port} ssh-ed25519`);
    expect(lines).toContain(`[127.0.0.1]:${target.port} ssh-ed25519`);
  });

  it('goes through two bastions in order', async () => {
    const host = registry.get(targetFor(target, kh, { proxy_jump: jumpTo(bastionA, bastionB) }), quiet);
    expect((await host.exec(['echo', 'two hops'])).stdout).toBe('two hops\n');
    expect(bastionA.log()).toMatch(new RegExp(`target 127\\.0\\.0\\.1 port ${bastionB.port}`));
    expect(bastionB.log()).toMatch(new RegExp(`target 127\\.0\\.0\\.1 port ${target.port}`));
  });

  it('checks the bastion host key with the policy too (strict)', async () => {
    writeFileSync(kh, `${target.knownHostsLines.join('\n')}\n`); // only the target is known
    const host = registry.get(targetFor(target, kh, { proxy_jump: jumpTo(bastionA), host_key_policy: 'strict' }), quiet);
    const err: unknown = await host.exec(['true']).catch((e: unknown) => e);
    expect(isEnnioError(err, 'HOST_KEY_UNKNOWN')).toBe(true);
    expect(String((err as Error).message)).toContain(`[127.0.0.1]:${bastionA.port}`);
  });

  it('refuses a changed target key behind a known bastion', async () => {
    // The target's port listed with bastion B's key: a different ed25519 key.
    const wrong = bastionB.knownHostsLines[0]?.replace(`]:${bastionB.port} `, `]:${target.port} `) ?? '';
    writeFileSync(kh, `${bastionA.knownHostsLines.join('\n')}\n${wrong}\n`);
    const host = registry.get(targetFor(target, kh, { proxy_jump: jumpTo(bastionA), host_key_policy: 'strict' }), quiet);
    const err: unknown = await host.exec(['true']).catch((e: unknown) => e);
    expect(isEnnioError(err, 'HOST_KEY_CHANGED')).toBe(true);
    expect(String((err as Error).message)).toContain(`${kh}:3`);
  });

  it('names the bastion when it cannot reach the next hop', async () => {
    const host = registry.get({ ...targetFor(target, kh, { proxy_jump: jumpTo(bastionA) }), port: 1 }, quiet);
    const err: unknown = await host.exec(['true']).catch((e: unknown) => e);
    expect(isEnnioError(err, 'SSH_CONNECT')).toBe(true);
    expect(String((err as Error).message)).toMatch(new RegExp(`bastion root@127\\.0\\.0\\.1:${bastionA.port} could not reach 127\\.0\\.0\\.1:1`));
  });
});
