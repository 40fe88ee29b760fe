/** Host key policies against a real sshd, with plain and hashed known_hosts. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isEnnioError, type EnnioError } from '../src/core/errors.js';
import { fingerprint } from '../src/host/ssh/known-hosts.js';
import type { HostKeyPolicy } from '../src/host/ssh/resolve.js';
import { SshHostRegistry } from '../src/host/ssh/registry.js';
import { keygen, readPublicKey, sshdSkipReason, startSshd, type TestSshd } from './helpers/sshd.js';
import { targetFor } from './helpers/ssh-env.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping host key tests: ${skip}`);

describe.skipIf(skip !== undefined)('host key policies', () => {
  let sshd: TestSshd;
  let kh: string;
  let name: string;
  const registry = new SshHostRegistry();
  const warnings: string[] = [];
  let stranger: { publicLine: string; blob: Buffer };

  beforeAll(async () => {
    sshd = await startSshd();
    kh = join(sshd.dir, 'kh');
    name = `[127.0.0.1]:${sshd.port}`;
    const path = join(sshd.dir, 'stranger');
    keygen(path, 'ed25519');
    stranger = readPublicKey(`${path}.pub`);
  });
  afterEach(async () => {
    await registry.closeAll();
    warnings.length = 0;
    rmSync(kh, { force: true });
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  const ed = (): TestSshd['hostKeys'][number] => sshd.hostKeys.find((k) => k.type === 'ssh-ed25519') as TestSshd['hostKeys'][number];
  const rsa = (): TestSshd['hostKeys'][number] => sshd.hostKeys.find((k) => k.type === 'ssh-rsa') as TestSshd['hostKeys'][number];

  /** Runs `touch marker` on the host; resolves with the error, or undefined when it ran. */
  async function attempt(policy: HostKeyPolicy, hashKnownHosts = false): Promise<{ err: EnnioError | undefined; ran: boolean }> {
    const marker = join(sshd.dir, `ran-${Date.now()}-${Math.random()}`);
    const target = { ...targetFor(sshd, kh, { host_key_policy: policy }), hashKnownHosts };
    const host = registry.get(target, { warn: (m) => warnings.push(m), retryDelaysMs: [] });
    const err = await host.exec(['touch', marker]).then(
      () => undefined,
      (e: unknown) => {
        if (!isEnnioError(e)) throw e;
        return e;
      },
    );
    await registry.closeAll();
    const ran = existsSync(marker);
    rmSync(marker, { force: true });
    return { err, ran };
  }

  function hash(file: string): void {
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    rmSync(`${file}.old`, { force: true });
  }

  describe.each([false, true])('known_hosts hashed=%s', (hashed) => {
    it.each(['strict', 'accept_new', 'accept_all'] as const)('%s accepts a known key', async (policy) => {
      writeFileSync(kh, `# comment\nother.example ${stranger.publicLine}\n${name} ${ed().publicLine}\n`);
      if (hashed) hash(kh);
      const before = readFileSync(kh, 'utf8');
      const { err, ran } = await attempt(policy);
      expect(err).toBeUndefined();
      expect(ran).toBe(true);
      expect(readFileSync(kh, 'utf8')).toBe(before);
      expect(warnings).toEqual([]);
    });

    it.each(['strict', 'accept_new'] as const)('%s refuses a changed key and runs nothing', async (policy) => {
      writeFileSync(kh, `# comment\nother.example ${ed().publicLine}\n${name} ${stranger.publicLine}\n`);
      if (hashed) hash(kh);
      const { err, ran } = await attempt(policy);
      expect(ran).toBe(false);
      expect(err?.code).toBe('HOST_KEY_CHANGED');
      expect(err?.message).toContain(name);
      expect(err?.message).toContain(`${kh}:3`);
      expect(err?.message).toContain(fingerprint(stranger.blob));
      expect(err?.message).toContain(fingerprint(ed().blob));
      expect(err?.hint).toContain('ssh-keygen -R');
    });

    it('accept_all accepts a changed key with a warning', async () => {
      writeFileSync(kh, `${name} ${stranger.publicLine}\n`);
      if (hashed) hash(kh);
      const { err, ran } = await attempt('accept_all');
      expect(err).toBeUndefined();
      expect(ran).toBe(true);
      expect(warnings.join('\n')).toMatch(/CHANGED/);
    });

    it('prefers a known key type (only the rsa key is known, strict)', async () => {
      writeFileSync(kh, `${name} ${rsa().publicLine}\n`);
      if (hashed) hash(kh);
      const { err, ran } = await attempt('strict');
      expect(err).toBeUndefined();
      expect(ran).toBe(true);
    });
  });

  it('strict refuses an unknown host with HOST_KEY_UNKNOWN and runs nothing', async () => {
    writeFileSync(kh, `127.0.0.1 ${ed().publicLine}\n`); // port 22 entry does not cover another port
    const { err, ran } = await attempt('strict');
    expect(ran).toBe(false);
    expect(err?.code).toBe('HOST_KEY_UNKNOWN');
    expect(err?.message).toContain(name);
    expect(err?.message).toContain(fingerprint(ed().blob));
  });

  it('accept_new appends the key in a form OpenSSH accepts, then treats it as known', async () => {
    const { err, ran } = await attempt('accept_new');
    expect(err).toBeUndefined();
    expect(ran).toBe(true);
    const lines = readFileSync(kh, 'utf8').trim().split('\n');
    expect(lines).toEqual([`${name} ${ed().publicLine}`]);
    // OpenSSH's own client, with strict checking and only this file, accepts the entry.
    const ssh = spawnSync('ssh', [
      '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${kh}`, '-o', 'GlobalKnownHostsFile=/dev/null',
      '-i', sshd.clientKey, '-p', String(sshd.port), 'root@127.0.0.1', 'echo', 'openssh-ok',
    ], { encoding: 'utf8' });
    expect(ssh.stderr).not.toMatch(/Host key verification failed/);
    expect(ssh.stdout.trim()).toBe('openssh-ok');
    expect(ssh.status).toBe(0);
    // And a second connection is "known": nothing appended.
    await attempt('strict');
    expect(readFileSync(kh, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('accept_new writes a hashed entry when HashKnownHosts is on, and OpenSSH accepts it', async () => {
    const { err, ran } = await attempt('accept_new', true);
    expect(err).toBeUndefined();
    expect(ran).toBe(true);
    const line = readFileSync(kh, 'utf8').trim();
    expect(line).toMatch(/^\|1\|[^ ]+ ssh-ed25519 /);
    expect(line).not.toContain('127.0.0.1');
    const found = spawnSync('ssh-keygen', ['-F', name, '-f', kh], { encoding: 'utf8' });
    expect(found.stdout).toContain(`Host ${name} found: line 1`);
    const ssh = spawnSync('ssh', [
      '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
      '-o', `UserKnownHostsFile=${kh}`, '-o', 'GlobalKnownHostsFile=/dev/null',
      '-i', sshd.clientKey, '-p', String(sshd.port), 'root@127.0.0.1', 'echo', 'openssh-ok',
    ], { encoding: 'utf8' });
    expect(ssh.stdout.trim()).toBe('openssh-ok');
  });

  it('accept_all connects to an unknown host with a warning and writes nothing', async () => {
    const { err, ran } = await attempt('accept_all');
    expect(err).toBeUndefined();
    expect(ran).toBe(true);
    expect(existsSync(kh)).toBe(false);
    expect(warnings.join('\n')).toMatch(/without verification/);
  });

  it('refuses a @revoked key under every policy', async () => {
    for (const policy of ['strict', 'accept_new', 'accept_all'] as const) {
      writeFileSync(kh, `${name} ${ed().publicLine}\n@revoked * ${ed().publicLine}\n`);
      const { err, ran } = await attempt(policy);
      expect(ran).toBe(false);
      expect(err?.message).toMatch(/@revoked/);
    }
  });
});
