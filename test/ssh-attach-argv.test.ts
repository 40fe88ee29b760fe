import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachArgv, attachOptions, attachSshConfig } from '../src/host/ssh/attach-argv.js';
import { sshdSkipReason, startSshd, type TestSshd } from './helpers/sshd.js';
import { targetFor } from './helpers/ssh-env.js';

describe('attachArgv', () => {
  it('builds the ssh command with port, user, key and host key settings', () => {
    const argv = attachArgv(
      { host: 'build.example', port: 2222, username: 'deploy', auth: { type: 'key', path: '/keys/id' }, proxyJump: [], knownHostsPath: '/home/u/my known_hosts', hostKeyPolicy: 'accept_new' },
      ['tmux', '-L', 'ennio', 'attach-session', '-t', '=my session:'],
    );
    expect(argv).toEqual([
      'ssh', '-t', '-p', '2222', '-l', 'deploy', '-i', '/keys/id',
      '-o', 'UserKnownHostsFile="/home/u/my known_hosts"',
      '-o', 'StrictHostKeyChecking=accept-new',
      '--', 'build.example',
      'tmux', '-L', 'ennio', 'attach-session', '-t', "'=my session:'",
    ]);
  });

  it('gives every bastion the same key, known_hosts and policy through a generated ssh config', () => {
    const target = {
      host: 'build.example', port: 2222, username: 'deploy', auth: { type: 'key' as const, path: '/keys/id' },
      proxyJump: [{ host: 'bastion', port: 22, username: 'jump', identityFiles: [] }, { host: '::1', port: 2200, username: 'x', identityFiles: [] }],
      knownHostsPath: '/home/u/my known_hosts', hostKeyPolicy: 'strict' as const,
    };
    const text = attachSshConfig(target);
    const blocks = text.split(/\n(?=Host )/).slice(1);
    expect(blocks.map((b) => b.split('\n')[0])).toEqual(['Host ennio-hop-0', 'Host ennio-hop-1', 'Host ennio-target']);
    for (const b of blocks) {
      expect(b).toContain('IdentityFile "/keys/id"');
      expect(b).toContain('UserKnownHostsFile "/home/u/my known_hosts"');
      expect(b).toContain('StrictHostKeyChecking yes');
    }
    expect(blocks[1]).toContain('ProxyJump ennio-hop-0');
    expect(blocks[2]).toContain('ProxyJump ennio-hop-1');
    expect(attachArgv(target, ['true'], { configPath: '/c' })).toEqual(['ssh', '-F', '/c', '-t', '--', 'ennio-target', 'true']);
    expect(() => attachArgv(target, ['true'])).toThrow(/configPath/);
  });

  it('passes the IdentityFiles ssh -G resolved when auth is not set, and escapes % for ssh', () => {
    const argv = attachArgv(
      { host: '10.9.9.9', port: 22, username: 'deploy', identityFiles: ['/keys/build_key', '/keys/50%off'], proxyJump: [], knownHostsPath: "/home/o'brien/kh", hostKeyPolicy: 'strict' },
      ['true'],
    );
    expect(argv).toEqual(expect.arrayContaining(['-i', '/keys/build_key', '-i', '/keys/50%%off', '-o', 'UserKnownHostsFile="/home/o\'brien/kh"']));
  });

  it('maps every policy', () => {
    const base = { host: 'h', port: 22, username: 'u', proxyJump: [], knownHostsPath: '/kh' };
    const strict = (p: 'strict' | 'accept_new' | 'accept_all'): string | undefined =>
      attachArgv({ ...base, hostKeyPolicy: p }, ['true']).find((a) => a.startsWith('StrictHostKeyChecking='));
    expect([strict('strict'), strict('accept_new'), strict('accept_all')]).toEqual([
      'StrictHostKeyChecking=yes', 'StrictHostKeyChecking=accept-new', 'StrictHostKeyChecking=no',
    ]);
  });
});

const skip = sshdSkipReason();
if (skip) console.log(`skipping attach argv e2e: ${skip}`);

describe.skipIf(skip !== undefined)('attachArgv with the real ssh', () => {
  let sshd: TestSshd;
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('runs the quoted remote words verbatim', () => {
    const kh = join(sshd.dir, 'kh');
    writeFileSync(kh, `${sshd.knownHostsLines.join('\n')}\n`);
    const hostile = "it's $(touch /tmp/ennio-attach-pwned) `x` ; \"q\" ü";
    const argv = attachArgv({ ...targetFor(sshd, kh, { host_key_policy: 'strict' }) }, ['printf', '%s', hostile]);
    const [ssh, ...args] = argv;
    const res = spawnSync(ssh ?? 'ssh', ['-o', 'BatchMode=yes', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(res.stdout).toBe(hostile);
    expect(res.status).toBe(0);
  });

  it('reaches the target through two bastions with the real ssh, every hop checked strictly', async () => {
    const a = await startSshd({ logLevel: 'DEBUG1' });
    const b = await startSshd();
    try {
      a.authorize(`${sshd.clientKey}.pub`);
      b.authorize(`${sshd.clientKey}.pub`);
      const kh = join(sshd.dir, 'kh-jump');
      writeFileSync(kh, `${[...a.knownHostsLines, ...b.knownHostsLines, ...sshd.knownHostsLines].join('\n')}\n`);
      const target = {
        ...targetFor(sshd, kh, { host_key_policy: 'strict' }),
        proxyJump: [a, b].map((s) => ({ host: '127.0.0.1', port: s.port, username: 'root', identityFiles: [] })),
      };
      const [ssh, ...args] = attachArgv(target, ['printf', '%s', 'through two bastions'], attachOptions(target, join(sshd.dir, 'home')));
      const res = spawnSync(ssh ?? 'ssh', ['-o', 'BatchMode=yes', ...args.filter((x) => x !== '-t')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(res.stderr).toBe('');
      expect(res.stdout).toBe('through two bastions');
      expect(a.log()).toMatch(new RegExp(`target 127\\.0\\.0\\.1 port ${b.port}`)); // the first bastion forwarded to the second
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
