/** Authentication against a real sshd: keys (plain, encrypted OpenSSH and PEM), ssh-agent, password. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sshConfig } from '../src/config/schema.js';
import { isEnnioError, type EnnioError } from '../src/core/errors.js';
import { resolveSshTarget, type ResolvedSshTarget } from '../src/host/ssh/resolve.js';
import { SshHostRegistry } from '../src/host/ssh/registry.js';
import type { SshHostOptions } from '../src/host/ssh/ssh-host.js';
import { keygen, sshdSkipReason, startSshd, type TestSshd } from './helpers/sshd.js';
import { createUser, startAgent, targetFor, type TestAgent, type TestUser } from './helpers/ssh-env.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping SSH auth tests: ${skip}`);
const quiet = { warn: () => undefined, retryDelaysMs: [] };

describe.skipIf(skip !== undefined)('SSH authentication', () => {
  let sshd: TestSshd;
  let kh: string;
  const registry = new SshHostRegistry();
  const agents: TestAgent[] = [];
  const PASS = 'correct horse battery staple';
  let encOpenssh: string;
  let encPem: string;
  let encPemEcdsa: string;

  beforeAll(async () => {
    sshd = await startSshd();
    kh = join(sshd.dir, 'known_hosts');
    encOpenssh = join(sshd.dir, 'enc_ed25519');
    encPem = join(sshd.dir, 'enc_rsa_pem');
    encPemEcdsa = join(sshd.dir, 'enc_ecdsa_pem');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASS, '-C', '', '-f', encOpenssh]);
    execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', PASS, '-C', '', '-f', encPem]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-m', 'PEM', '-N', PASS, '-C', '', '-f', encPemEcdsa]);
    for (const k of [encOpenssh, encPem, encPemEcdsa]) sshd.authorize(`${k}.pub`);
  });
  afterEach(async () => {
    try {
      await registry.closeAll();
    } finally {
      for (const a of agents.splice(0)) await a.stop();
    }
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  async function whoami(target: ResolvedSshTarget, options: SshHostOptions = {}): Promise<string> {
    await registry.closeAll(); // a fresh connection with exactly these settings
    const host = registry.get(target, { ...quiet, ...options });
    return (await host.exec(['id', '-un'])).stdout.trim();
  }
  async function authError(target: ResolvedSshTarget, options: SshHostOptions = {}): Promise<EnnioError> {
    const err: unknown = await whoami(target, options).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!isEnnioError(err)) throw new Error(`expected an EnnioError, got ${String(err)}`);
    return err;
  }

  it('logs in with an unencrypted key', async () => {
    expect(await whoami(targetFor(sshd, kh))).toBe('root');
  });

  it.each([
    ['OpenSSH format', () => encOpenssh],
    ['PEM rsa', () => encPem],
    ['PEM ecdsa', () => encPemEcdsa],
  ])('logs in with an encrypted key (%s) and its passphrase', async (_name, path) => {
    expect(await whoami(targetFor(sshd, kh, { auth: { type: 'key', path: path(), passphrase: PASS } }))).toBe('root');
  });

  it('reports a wrong passphrase as SSH_AUTH naming the key file, without the secret', async () => {
    for (const path of [encOpenssh, encPem]) {
      const err = await authError(targetFor(sshd, kh, { auth: { type: 'key', path, passphrase: 'wrong-secret-xyz' } }));
      expect(err.code).toBe('SSH_AUTH');
      expect(err.message).toContain(path);
      expect(err.message).toMatch(/wrong passphrase/);
      expect(`${err.message} ${err.hint ?? ''}`).not.toContain('wrong-secret-xyz');
    }
  });

  it('reports a missing passphrase and a missing key file as SSH_AUTH', async () => {
    const enc = await authError(targetFor(sshd, kh, { auth: { type: 'key', path: encOpenssh } }));
    expect(enc.code).toBe('SSH_AUTH');
    expect(enc.message).toMatch(/encrypted and no passphrase/);
    const missing = await authError(targetFor(sshd, kh, { auth: { type: 'key', path: join(sshd.dir, 'nope') } }));
    expect(missing.code).toBe('SSH_AUTH');
    expect(missing.message).toContain(join(sshd.dir, 'nope'));
  });

  it('reports a key the server does not accept as SSH_AUTH', async () => {
    const stranger = join(sshd.dir, 'stranger');
    keygen(stranger, 'ed25519');
    const err = await authError(targetFor(sshd, kh, { auth: { type: 'key', path: stranger } }));
    expect(err.code).toBe('SSH_AUTH');
    expect(err.message).toContain(`key ${stranger}`);
  });

  it('logs in through a real ssh-agent', async () => {
    const agent = await startAgent([sshd.clientKey]);
    agents.push(agent);
    const env = { ...process.env, SSH_AUTH_SOCK: agent.socket };
    expect(await whoami(targetFor(sshd, kh, { auth: { type: 'agent' } }), { env })).toBe('root');
  });

  it('forwards the agent when forward_agent is set', async () => {
    const agent = await startAgent([sshd.clientKey]);
    agents.push(agent);
    const env = { ...process.env, SSH_AUTH_SOCK: agent.socket };
    await registry.closeAll();
    const host = registry.get(targetFor(sshd, kh, { auth: { type: 'agent' }, forward_agent: true }), { ...quiet, env });
    // On the remote, ssh-add talks to our local agent through the connection (startAgent
    // returned only once that agent answered with the key).
    const listed = await host.exec(['ssh-add', '-l']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(execFileSync('ssh-keygen', ['-lf', `${sshd.clientKey}.pub`], { encoding: 'utf8' }).split(' ')[1]);
  });

  it('explains an unset SSH_AUTH_SOCK and an empty agent', async () => {
    const env = { ...process.env };
    delete env.SSH_AUTH_SOCK;
    const unset = await authError(targetFor(sshd, kh, { auth: { type: 'agent' } }), { env });
    expect(unset.code).toBe('SSH_AUTH');
    expect(unset.message).toMatch(/SSH_AUTH_SOCK is not set/);
    const empty = await startAgent([]);
    agents.push(empty);
    const none = await authError(targetFor(sshd, kh, { auth: { type: 'agent' } }), { env: { ...env, SSH_AUTH_SOCK: empty.socket } });
    expect(none.code).toBe('SSH_AUTH');
    expect(none.message).toMatch(/holds no keys/);
  });

  it('without auth uses the agent and IdentityFiles from ssh -G', async () => {
    const cfgFile = join(sshd.dir, 'ssh_config');
    writeFileSync(cfgFile, `Host testbox\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${join(sshd.dir, 'missing_key')}\n  IdentityFile ${sshd.clientKey}\n  UserKnownHostsFile ${kh}\n`);
    const env = { ...process.env };
    delete env.SSH_AUTH_SOCK;
    const target = await resolveSshTarget(sshConfig.parse({ host: 'testbox' }), { sshConfigFile: cfgFile });
    expect(target.identityFiles).toContain(sshd.clientKey);
    expect(await whoami(target, { env })).toBe('root');
    await registry.closeAll();
    // An agent alone (no identity files) works too.
    const agent = await startAgent([sshd.clientKey]);
    agents.push(agent);
    expect(await whoami({ ...target, identityFiles: [] }, { env: { ...env, SSH_AUTH_SOCK: agent.socket } })).toBe('root');
    await registry.closeAll();
    const nothing = await authError({ ...target, identityFiles: [] }, { env });
    expect(nothing.code).toBe('SSH_AUTH');
    expect(nothing.message).toMatch(/no usable credentials/);
  });
});

describe.skipIf(skip !== undefined)('SSH password authentication', () => {
  let sshd: TestSshd;
  let user: TestUser;
  const registry = new SshHostRegistry();

  beforeAll(async () => {
    sshd = await startSshd({ passwordAuth: true });
    user = createUser();
  });
  afterAll(async () => {
    try {
      await registry.closeAll();
    } finally {
      try {
        user?.remove();
      } finally {
        await sshd?.stop();
      }
    }
  });

  it('logs in with the right password and refuses a wrong one with SSH_AUTH', async () => {
    const kh = join(sshd.dir, 'known_hosts');
    const good = registry.get(targetFor(sshd, kh, { username: user.name, auth: { type: 'password', password: user.password } }), quiet);
    expect((await good.exec(['id', '-un'])).stdout.trim()).toBe(user.name);
    await registry.closeAll();
    const bad = registry.get(targetFor(sshd, kh, { username: user.name, auth: { type: 'password', password: 'not-the-password' } }), quiet);
    const err: unknown = await bad.exec(['id']).catch((e: unknown) => e);
    expect(isEnnioError(err, 'SSH_AUTH')).toBe(true);
    expect(String((err as Error).message)).not.toContain('not-the-password');
  });
});
