/**
 * tmate's share URLs when a tmate server answers. No tmate server can run here (none is
 * packaged and the public one is unreachable), so tmate's answers come from a scripted
 * Host; the unavailable path runs against the real tmate in test/remote-strategies.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ExecOptions, ExecResult, Host } from '../src/host/host.js';
import { tmateConfigText, TmateRuntime } from '../src/strategies/tmate-runtime.js';

class ScriptedHost implements Host {
  readonly label = 'scripted';
  readonly isRemote = true;
  readonly calls: Array<{ argv: readonly string[]; options: ExecOptions }> = [];
  constructor(private readonly answer: (argv: readonly string[]) => ExecResult) {}
  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({ argv, options });
    return Promise.resolve(this.answer(argv));
  }
  homeDir(): Promise<string> {
    return Promise.resolve('/home/u');
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const handle = { id: 's-1', runtimeName: 'tmate', data: { tmateSocket: '/home/u/.ennio/tmate/s-1.sock' } };
const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });

describe('tmate share URLs', () => {
  it('reports the ssh and web URLs (read-write and read-only) once the server is ready', async () => {
    const host = new ScriptedHost((argv) =>
      argv.includes('display') ? ok('ssh abc@lon1.tmate.io\tssh ro-abc@lon1.tmate.io\thttps://tmate.io/t/abc\thttps://tmate.io/t/ro-abc\n') : ok(),
    );
    const info = await new TmateRuntime(host, {}, (a) => Promise.resolve(a), { url_timeout: 3000 }, '~/.ennio/tmate').info(handle);
    expect(info).toMatchObject({
      tmate_ssh: 'ssh abc@lon1.tmate.io', tmate_ssh_ro: 'ssh ro-abc@lon1.tmate.io',
      tmate_web: 'https://tmate.io/t/abc', tmate_web_ro: 'https://tmate.io/t/ro-abc',
    });
    const wait = host.calls.find((c) => c.argv.includes('wait'));
    expect(wait?.argv).toEqual(['tmate', '-S', handle.data.tmateSocket, 'wait', 'tmate-ready']);
    expect(wait?.options.timeoutMs).toBe(3000); // bounded: never a hang
  });

  it('says unavailable, with the reason, when the server does not answer in time', async () => {
    const host = new ScriptedHost((argv) => (argv.includes('wait') ? { code: 124, stdout: '', stderr: '' } : ok()));
    const info = await new TmateRuntime(host, {}, (a) => Promise.resolve(a), { url_timeout: 2000 }, '~/.ennio/tmate').info(handle);
    expect(info['tmate_urls']).toBe('unavailable (no tmate server answered within 2s)');
  });

  it('writes the self-hosted server settings as tmate options, quoted', () => {
    const text = tmateConfigText({ server_host: 'tmate.example.com', server_port: 2200, server_rsa_fingerprint: 'SHA256:ab"c', server_ed25519_fingerprint: 'SHA256:$x', url_timeout: 5000 });
    expect(text.split('\n')).toEqual([
      'set -g tmate-server-host "tmate.example.com"',
      'set -g tmate-server-port 2200',
      'set -g tmate-server-rsa-fingerprint "SHA256:ab\\"c"',
      'set -g tmate-server-ed25519-fingerprint "SHA256:\\$x"',
      '',
    ]);
    expect(tmateConfigText(undefined)).toBe('');
  });
});
