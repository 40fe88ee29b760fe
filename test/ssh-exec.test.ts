/** SshHost.exec and friends against a real sshd: quoting, stdio, status, timeouts, upload, tunnels. */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshConfig } from '../src/config/schema.js';
import { SshHostRegistry } from '../src/host/ssh/registry.js';
import type { SshHost } from '../src/host/ssh/ssh-host.js';
import { isEnnioError } from '../src/core/errors.js';
import { sshdSkipReason, startSshd, type TestSshd } from './helpers/sshd.js';
import { targetFor } from './helpers/ssh-env.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping SSH exec tests: ${skip}`);

describe.skipIf(skip !== undefined)('SshHost exec', () => {
  let sshd: TestSshd;
  const registry = new SshHostRegistry();
  let host: SshHost;
  const pwned = `/tmp/ennio-pwned-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    sshd = await startSshd();
    host = registry.get(targetFor(sshd, join(sshd.dir, 'known_hosts')), { warn: () => undefined });
  });
  afterAll(async () => {
    try {
      await registry.closeAll();
    } finally {
      rmSync(pwned, { force: true });
      await sshd?.stop();
    }
  });

  it('passes hostile argv words verbatim and never executes them', async () => {
    const words = [
      `$(touch ${pwned})`,
      `\`touch ${pwned}\``,
      `; touch ${pwned};`,
      `' ; touch ${pwned}; '`,
      `" ; touch ${pwned}; "`,
      `a\nb\ntouch ${pwned}`,
      'ünïcødé ✓ 日本',
      '',
      '-n',
      '*',
      '\\',
      '$HOME ${PATH}',
    ];
    for (const word of words) {
      const res = await host.exec(['printf', '%s', word]);
      expect(res).toEqual({ code: 0, stdout: word, stderr: '' });
    }
    const all = await host.exec(['sh', '-c', 'for a in "$@"; do printf "[%s]" "$a"; done', 'sh', ...words]);
    expect(all.stdout).toBe(words.map((w) => `[${w}]`).join(''));
    expect(existsSync(pwned)).toBe(false);
  });

  it('keeps stdout and stderr apart and reports the exit status', async () => {
    expect(await host.exec(['sh', '-c', 'echo out; echo err >&2; exit 3'])).toEqual({ code: 3, stdout: 'out\n', stderr: 'err\n' });
    const missing = await host.exec(['no-such-program-xyz']);
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('no-such-program-xyz');
  });

  it('cannot change the pooled shell with builtins in argv', async () => {
    expect((await host.exec(['exit', '0'])).code).toBe(127);
    expect((await host.exec(['cd', '/'])).code).toBe(127);
    expect((await host.exec(['printf', 'still here'])).stdout).toBe('still here');
  });

  it('applies cwd, env and stdin (binary safe)', async () => {
    expect((await host.exec(['pwd'], { cwd: sshd.dir })).stdout.trim()).toBe(sshd.dir);
    const env = await host.exec(['sh', '-c', 'printf %s "$A|$B"'], { env: { A: "x 'y' $(z)", B: 'ü\nv' } });
    expect(env.stdout).toBe("x 'y' $(z)|ü\nv");
    const bytes = randomBytes(100_000);
    const echoed = await host.exec(['sh', '-c', 'od -An -v -tx1 | tr -d " \\n"'], { input: bytes });
    expect(echoed.stdout).toBe(bytes.toString('hex'));
    expect((await host.exec(['cat'], { input: 'line1\nline2' })).stdout).toBe('line1\nline2');
    const missing = join(sshd.dir, 'no-such-dir', 'deeper');
    const noCwd = await host.exec(['true'], { cwd: missing });
    expect(noCwd.code).not.toBe(0);
    expect(noCwd.stderr).toContain(missing);
  });

  it('returns large output intact', async () => {
    const res = await host.exec(['sh', '-c', 'i=0; while [ $i -lt 20000 ]; do echo "line $i"; i=$((i+1)); done']);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(20000);
    expect(lines[19999]).toBe('line 19999');
  });

  it('kills a command that exceeds timeoutMs (code 124) and keeps working', async () => {
    const marker = join(sshd.dir, 'late');
    const res = await host.exec(['sh', '-c', `sleep 3; touch ${marker}`], { timeoutMs: 300 });
    expect(res.code).toBe(124);
    // The remote process is gone: after it would have finished, the file is still absent.
    await host.exec(['sleep', '3.5']);
    expect(existsSync(marker)).toBe(false);
    expect((await host.exec(['echo', 'ok'])).stdout).toBe('ok\n');
  });

  it('caches homeDir', async () => {
    expect(await host.homeDir()).toBe('/root');
    expect(await host.homeDir()).toBe('/root');
  });

  it('uploads files atomically with a mode', async () => {
    const data = randomBytes(300_000);
    const dest = join(sshd.dir, 'sub', 'dir', 'blob.bin');
    await host.uploadFile(data, dest, 0o755);
    expect(readFileSync(dest).equals(data)).toBe(true);
    expect(statSync(dest).mode & 0o777).toBe(0o755);
    await host.uploadFile('small', dest, 0o600);
    expect(readFileSync(dest, 'utf8')).toBe('small');
    expect(statSync(dest).mode & 0o777).toBe(0o600);
  });

  it('opens TCP tunnels with forwardOut', async () => {
    const stream = await host.forwardOut('127.0.0.1', sshd.port);
    const banner = await new Promise<string>((resolve) => stream.once('data', (d: Buffer) => resolve(d.toString('latin1'))));
    stream.destroy();
    expect(banner).toMatch(/^SSH-2\.0-OpenSSH/);
    const refused: unknown = await host.forwardOut('127.0.0.1', 1).catch((e: unknown) => e);
    expect(isEnnioError(refused, 'SSH_CHANNEL')).toBe(true);
  });

  it('resolves a project ssh_config through ssh -G once and shares the host', async () => {
    const cfgFile = join(sshd.dir, 'ssh_config');
    writeFileSync(cfgFile, `Host box\n  HostName 127.0.0.1\n  Port ${sshd.port}\n  User root\n  IdentityFile ${sshd.clientKey}\n  UserKnownHostsFile ${join(sshd.dir, 'known_hosts')}\n`);
    const own = new SshHostRegistry();
    try {
      const a = await own.forConfig(sshConfig.parse({ host: 'box' }), { sshConfigFile: cfgFile, warn: () => undefined });
      const b = await own.forConfig(sshConfig.parse({ host: 'box' }), { sshConfigFile: cfgFile });
      expect(b).toBe(a);
      expect(a.label).toBe(`root@127.0.0.1:${sshd.port}`);
      expect((await a.exec(['id', '-un'])).stdout).toBe('root\n');
    } finally {
      await own.closeAll();
    }
  });

  it('shares one host per user@host:port in a registry', () => {
    const again = registry.get(targetFor(sshd, join(sshd.dir, 'known_hosts')));
    expect(again).toBe(host);
    expect(registry.size).toBe(1);
  });
});
