/**
 * Prewarmed SSH connections (src/host/ssh/warm-hint.ts, pre-dial.ts, SshHostRegistry.prewarm):
 * what the hint file may hold, that a guess is used only for exactly its target, that it
 * costs no second connection, and that an in-process command starts the connections the
 * previous one used (and not after the config changed).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SshHostRegistry } from '../src/host/ssh/registry.js';
import { dropDialed, preDial, takeDialed } from '../src/host/ssh/pre-dial.js';
import type { ResolvedSshTarget } from '../src/host/ssh/resolve.js';
import { hintable, readWarmTargets, writeWarmTargets } from '../src/host/ssh/warm-hint.js';
import { isEnnioError } from '../src/core/errors.js';
import { waitFor } from './helpers/cli.js';
import { createRemoteWorld, type RemoteWorld } from './helpers/remote-world.js';
import { freePort, sshdSkipReason, startSshd, type TestSshd } from './helpers/sshd.js';
import { targetFor } from './helpers/ssh-env.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping SSH prewarm tests: ${skip}`);

/** Successful logins sshd logged so far. */
const logins = (sshd: TestSshd): number => sshd.log().split('\n').filter((l) => l.includes('Accepted publickey')).length;

describe('warm hints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ennio-warm-hint-'));
  const config = join(dir, 'ennio.yaml');
  const base: ResolvedSshTarget = {
    alias: 'build', host: '10.0.0.1', port: 22, username: 'u', identityFiles: [], proxyJump: [], knownHostsPath: '/k',
    extraKnownHostsPaths: [], forwardAgent: false, hashKnownHosts: false, hostKeyPolicy: 'strict', connectionTimeoutMs: 1000, keepaliveIntervalMs: 1000,
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('never writes a target that holds a password or a passphrase, and keeps the file 0600', () => {
    writeFileSync(config, 'projects: []\n');
    const password = { ...base, host: 'p', auth: { type: 'password' as const, password: 'hunter2-secret' } };
    const passphrase = { ...base, host: 'q', auth: { type: 'key' as const, path: '/id', passphrase: 'pass-secret' } };
    const key = { ...base, host: 'k', auth: { type: 'key' as const, path: '/id' } };
    expect([password, passphrase, key, base].map(hintable)).toEqual([false, false, true, true]);
    writeWarmTargets(dir, config, [password, passphrase, key]);
    const text = readFileSync(join(dir, 'ssh-warm.json'), 'utf8');
    expect(text).not.toContain('secret');
    expect(statSync(join(dir, 'ssh-warm.json')).mode & 0o777).toBe(0o600);
    expect(readWarmTargets(dir, config)).toEqual([key]);
  });

  it('forgets the hint of a config file that changed since', () => {
    writeFileSync(config, 'projects: []\n');
    writeWarmTargets(dir, config, [base]);
    expect(readWarmTargets(dir, config)).toEqual([base]);
    const later = new Date(Date.now() + 5000);
    utimesSync(config, later, later);
    expect(readWarmTargets(dir, config)).toEqual([]);
    expect(readWarmTargets(dir, join(dir, 'other.yaml'))).toEqual([]);
  });
});

describe.skipIf(skip !== undefined)('prewarmed connections', () => {
  let sshd: TestSshd;
  let knownHosts: string;

  beforeAll(async () => {
    sshd = await startSshd();
    knownHosts = join(sshd.dir, 'known_hosts');
  });
  afterAll(async () => {
    dropDialed();
    await sshd?.stop();
  });

  it('hands the prewarmed connection to a command for exactly its target: one login, not two', async () => {
    const registry = new SshHostRegistry();
    try {
      const target = targetFor(sshd, knownHosts, { host_key_policy: 'accept_new' });
      const before = logins(sshd);
      preDial(target.host, target.port);
      registry.prewarm(target);
      const warned: string[] = [];
      const host = registry.get(target, { warn: (m) => warned.push(m) });
      expect((await host.exec(['printf', 'warm'])).stdout).toBe('warm');
      expect(logins(sshd) - before).toBe(1);
      expect(host.connection.connects).toBe(1);
      // The key it accepted while nobody had claimed it is reported to whoever did.
      expect(warned.join('\n')).toContain('permanently added');
      expect(registry.usedTargets()).toEqual([target]);
    } finally {
      await registry.closeAll();
    }
  });

  it('does not use a guess for a target that differs, and closes it', async () => {
    const registry = new SshHostRegistry();
    try {
      const guessed = targetFor(sshd, knownHosts, { connection_timeout: 15_000 });
      const wanted = targetFor(sshd, knownHosts, { connection_timeout: 20_000 });
      registry.prewarm(guessed);
      const host = registry.get(wanted, { warn: () => undefined });
      expect(host.target).toEqual(wanted);
      expect((await host.exec(['printf', 'fresh'])).stdout).toBe('fresh');
      expect(registry.size).toBe(1);
      expect(registry.usedTargets()).toEqual([wanted]);
    } finally {
      await registry.closeAll();
    }
  });

  it('an unclaimed guess says nothing and is closed with the rest', async () => {
    const registry = new SshHostRegistry();
    const target = targetFor(sshd, knownHosts);
    registry.prewarm(target);
    expect(registry.usedTargets()).toEqual([]);
    await registry.closeAll();
    expect(registry.size).toBe(0);
  });

  it('a pre-dialed port that refuses gives the same error as a connection made later', async () => {
    const registry = new SshHostRegistry();
    try {
      const port = await freePort();
      const target = targetFor(sshd, knownHosts, { port, connection_timeout: 5_000 });
      preDial(target.host, port);
      registry.prewarm(target);
      const err = await registry.get(target).exec(['true']).then(() => undefined, (e: unknown) => e);
      expect(isEnnioError(err, 'SSH_CONNECT')).toBe(true);
      expect((err as Error).message).toContain('connection refused');
      expect(takeDialed(target.host, port)).toBeUndefined();
    } finally {
      await registry.closeAll();
    }
  });
});

describe.skipIf(skip !== undefined)('in-process commands', () => {
  let w: RemoteWorld;
  let id: string;

  beforeAll(async () => {
    w = await createRemoteWorld();
    w.writeConfig(['projects:', w.project('rtmux', 'tmux'), ''].join('\n'));
    const spawned = w.run(['spawn', 'rtmux', '--json'], { env: { ENNIO_NO_SERVER: '1' } });
    expect(spawned.code).toBe(0);
    id = (JSON.parse(spawned.stdout) as { id: string }).id;
  });
  afterAll(async () => {
    await w?.stop();
  });

  const logsTraced = (): string => {
    const res = w.run(['logs', id], { env: { ENNIO_NO_SERVER: '1', ENNIO_TRACE: '1' } });
    expect(res.code).toBe(0);
    return res.stderr;
  };

  it('start connecting to the host the previous command used, until the config changes', async () => {
    await waitFor(() => w.run(['logs', id], { env: { ENNIO_NO_SERVER: '1' } }).stdout.includes('demo-agent ready'), 'the agent to start');
    const hint = join(w.home, 'ssh-warm.json');
    expect(existsSync(hint)).toBe(true);
    expect(readFileSync(hint, 'utf8')).toContain(`"port":${w.sshd.port}`);
    expect(logsTraced()).toContain('prewarming 1 SSH connection(s)');
    const config = join(w.dir, 'ennio.yaml');
    writeFileSync(config, `${readFileSync(config, 'utf8')}\n# edited\n`);
    expect(logsTraced()).not.toContain('prewarming');
    // That command recorded the hint again for the edited config.
    expect(logsTraced()).toContain('prewarming 1 SSH connection(s)');
  });
});
