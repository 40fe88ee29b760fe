import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachArgv } from '../src/host/ssh/attach-argv.js';
import { sshdSkipReason, startSshd, type TestSshd } from './helpers/sshd.js';
import { targetFor } from './helpers/ssh-env.js';

describe('attachArgv', () => {
  it('builds the ssh command with port, user, key, jumps and host key settings', () => {
    const argv = attachArgv(
      {
        host: 'build.example',
        port: 2222,
        username: 'deploy',
        auth: { type: 'key', path: '/keys/id' },
        proxyJump: [
          { host: 'bastion', port: 22, username: 'jump', identityFiles: [] },
          { host: '::1', port: 2200, username: 'x', identityFiles: [] },
        ],
        knownHostsPath: '/home/u/my known_hosts',
        hostKeyPolicy: 'accept_new',
      },
      ['tmux', '-L', 'ennio', 'attach-session', '-t', '=my session:'],
    );
    expect(argv).toEqual([
      'ssh', '-t', '-p', '2222', '-l', 'deploy', '-i', '/keys/id',
      '-J', 'jump@bastion:22,x@[::1]:2200',
      '-o', 'UserKnownHostsFile="/home/u/my known_hosts"',
      '-o', 'StrictHostKeyChecking=accept-new',
      '--', 'build.example',
      'tmux', '-L', 'ennio', 'attach-session', '-t', "'=my session:'",
    ]);
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
});
