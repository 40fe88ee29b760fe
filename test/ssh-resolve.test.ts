import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sshConfig } from '../src/config/schema.js';
import { isEnnioError } from '../src/core/errors.js';
import { buildTarget, expandSshPath, parseProxyJump, parseSshG, resolveSshTarget } from '../src/host/ssh/resolve.js';
import { tempDir } from './helpers/ssh-env.js';

const SAMPLE = `host build
user deploy
hostname 10.0.0.5
port 2222
identityfile ~/.ssh/id_rsa
identityfile /keys/%u-%h-%p
proxyjump alice@bast:2201,b2
userknownhostsfile ~/.ssh/known_hosts ~/.ssh/known_hosts2
globalknownhostsfile /etc/ssh/ssh_known_hosts
forwardagent yes
hashknownhosts yes
`;

describe('parseSshG', () => {
  it('lowercases keys and keeps repeated values in order', () => {
    const g = parseSshG(SAMPLE);
    expect(g.get('hostname')).toEqual(['10.0.0.5']);
    expect(g.get('identityfile')).toEqual(['~/.ssh/id_rsa', '/keys/%u-%h-%p']);
    expect(parseSshG('HostName X\n').get('hostname')).toEqual(['X']);
  });
});

describe('parseProxyJump', () => {
  it('parses user, host, port, IPv6 and ssh:// forms', () => {
    expect(parseProxyJump('alice@bast:2201,b2')).toEqual([{ host: 'bast', port: 2201, username: 'alice' }, { host: 'b2' }]);
    expect(parseProxyJump('ssh://u@[::1]:22')).toEqual([{ host: '::1', port: 22, username: 'u' }]);
    expect(parseProxyJump('none')).toEqual([]);
    expect(parseProxyJump(undefined)).toEqual([]);
  });
  it('rejects a bad port with CONFIG_INVALID', () => {
    expect(() => parseProxyJump('h:99999')).toThrowError(/invalid proxy_jump/);
    try {
      parseProxyJump('h:x');
    } catch (err) {
      expect(isEnnioError(err, 'CONFIG_INVALID')).toBe(true);
    }
  });
});

describe('buildTarget', () => {
  const local = process.env.USER ?? userInfo().username;
  it('uses ssh -G values when ennio.yaml leaves them out', () => {
    const t = buildTarget(sshConfig.parse({ host: 'build' }), parseSshG(SAMPLE), [undefined, parseSshG('hostname 10.9.9.9\nuser carol\nport 2022\n')]);
    expect(t).toMatchObject({ alias: 'build', host: '10.0.0.5', port: 2222, username: 'deploy', forwardAgent: true, hashKnownHosts: true });
    expect(t.identityFiles).toEqual([join(homedir(), '.ssh/id_rsa'), `/keys/${local}-10.0.0.5-2222`]);
    expect(t.proxyJump).toEqual([
      { host: 'bast', port: 2201, username: 'alice', identityFiles: [] },
      { host: '10.9.9.9', port: 2022, username: 'carol', identityFiles: [] },
    ]);
    expect(t.knownHostsPath).toBe(join(homedir(), '.ssh/known_hosts'));
    expect(t.extraKnownHostsPaths).toEqual([join(homedir(), '.ssh/known_hosts2'), '/etc/ssh/ssh_known_hosts']);
  });
  it('lets ennio.yaml values win', () => {
    const t = buildTarget(
      sshConfig.parse({ host: 'build', port: 22, username: 'root', proxy_jump: 'j1', known_hosts_path: '~/kh', host_key_policy: 'strict', connection_timeout: '5s' }),
      parseSshG(SAMPLE),
    );
    expect(t).toMatchObject({ host: '10.0.0.5', port: 22, username: 'root', knownHostsPath: join(homedir(), 'kh'), extraKnownHostsPaths: [], hostKeyPolicy: 'strict', connectionTimeoutMs: 5000 });
    expect(t.proxyJump.map((h) => h.host)).toEqual(['j1']);
  });
  it('falls back to defaults without ssh -G', () => {
    const t = buildTarget(sshConfig.parse({ host: 'example.org' }), undefined);
    expect(t).toMatchObject({ host: 'example.org', port: 22, username: local, identityFiles: [], proxyJump: [], forwardAgent: false, hashKnownHosts: false, hostKeyPolicy: 'accept_new' });
    expect(t.knownHostsPath).toBe(join(homedir(), '.ssh/known_hosts'));
  });
  it('expands tokens', () => {
    expect(expandSshPath('%d/x/%r@%h:%p %%', { host: 'h', port: 1, username: 'r', alias: 'a' })).toBe(`${homedir()}/x/r@h:1 %`);
  });
});

describe('resolveSshTarget with a real ssh -G', () => {
  const dir = tempDir('ennio-sshcfg-');
  afterAll(() => dir.remove());
  const file = join(dir.path, 'config');
  writeFileSync(
    file,
    [
      'Host bastion',
      '  HostName 192.0.2.10',
      '  User jumper',
      '  Port 2200',
      'Host myalias',
      '  HostName 192.0.2.1',
      '  Port 2022',
      '  User deploy',
      `  IdentityFile ${dir.path}/id_%r`,
      '  ProxyJump bastion',
      `  UserKnownHostsFile ${dir.path}/kh`,
      '',
    ].join('\n'),
  );

  it('resolves an alias from a custom config file (ssh -F file -G)', async () => {
    const t = await resolveSshTarget(sshConfig.parse({ host: 'myalias' }), { sshConfigFile: file });
    expect(t).toMatchObject({ alias: 'myalias', host: '192.0.2.1', port: 2022, username: 'deploy', knownHostsPath: `${dir.path}/kh` });
    expect(t.identityFiles).toEqual([`${dir.path}/id_deploy`]);
    expect(t.proxyJump).toEqual([{ host: '192.0.2.10', port: 2200, username: 'jumper', identityFiles: expect.any(Array) }]);
  });
  it('reads the file from ENNIO_SSH_CONFIG', async () => {
    const t = await resolveSshTarget(sshConfig.parse({ host: 'myalias', port: 23 }), { env: { ...process.env, ENNIO_SSH_CONFIG: file } });
    expect(t).toMatchObject({ host: '192.0.2.1', port: 23 });
  });
  it('skips ssh -G when use_ssh_config is false', async () => {
    const t = await resolveSshTarget(sshConfig.parse({ host: 'myalias', use_ssh_config: false }), { sshConfigFile: file });
    expect(t).toMatchObject({ host: 'myalias', port: 22 });
  });
  it('uses defaults when ssh is not installed', async () => {
    const t = await resolveSshTarget(sshConfig.parse({ host: 'myalias' }), { sshConfigFile: file, sshProgram: '/nonexistent/ssh' });
    expect(t).toMatchObject({ host: 'myalias', port: 22 });
  });
  it('reports a broken ssh config as CONFIG_INVALID naming the file', async () => {
    const bad = join(dir.path, 'bad');
    writeFileSync(bad, 'Host x\n  NoSuchOption yes\n');
    const err: unknown = await resolveSshTarget(sshConfig.parse({ host: 'x' }), { sshConfigFile: bad }).catch((e: unknown) => e);
    expect(isEnnioError(err, 'CONFIG_INVALID')).toBe(true);
    expect(String((err as Error).message)).toMatch(/ssh -G x failed/);
  });
});

describe('ssh -G answers kept between processes', () => {
  const dir = tempDir('ennio-sshg-cache-');
  afterAll(() => dir.remove());
  const cacheDir = join(dir.path, 'home');
  mkdirSync(cacheDir);
  const runs = join(dir.path, 'runs');
  // ssh itself, counting its runs: what the cache saves.
  const counting = join(dir.path, 'counting-ssh');
  writeFileSync(counting, `#!/bin/sh\necho run >> ${runs}\nexec ssh "$@"\n`, { mode: 0o755 });
  const ranSsh = (): number => (existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').filter(Boolean).length : 0);
  const resolve = (file: string, host = 'cached') => resolveSshTarget(sshConfig.parse({ host }), { sshConfigFile: file, sshProgram: counting, cacheDir });

  it('answers again from the cache until the config file changes', async () => {
    const file = join(dir.path, 'plain');
    writeFileSync(file, 'Host cached\n  HostName 192.0.2.5\n  Port 2201\n');
    expect(await resolve(file)).toMatchObject({ host: '192.0.2.5', port: 2201 });
    const before = ranSsh();
    expect(await resolve(file)).toMatchObject({ host: '192.0.2.5', port: 2201 });
    expect(ranSsh()).toBe(before);
    writeFileSync(file, 'Host cached\n  HostName 192.0.2.6\n  Port 2202\n');
    expect(await resolve(file)).toMatchObject({ host: '192.0.2.6', port: 2202 });
    expect(ranSsh()).toBe(before + 1);
  });

  it('notices a file added to an Include directory, and a change in an included file', async () => {
    const conf = join(dir.path, 'conf.d');
    mkdirSync(conf);
    const file = join(dir.path, 'with-include');
    writeFileSync(file, `Include ${conf}/*.conf\nHost cached\n  HostName 192.0.2.7\n`);
    expect(await resolve(file)).toMatchObject({ host: '192.0.2.7', port: 22 });
    writeFileSync(join(conf, 'a.conf'), 'Host cached\n  Port 2300\n');
    expect(await resolve(file)).toMatchObject({ host: '192.0.2.7', port: 2300 });
    writeFileSync(join(conf, 'a.conf'), 'Host cached\n  Port 2301\n');
    expect(await resolve(file)).toMatchObject({ port: 2301 });
  });

  it('never keeps an answer that depends on a command (Match exec)', async () => {
    const file = join(dir.path, 'match-exec');
    const flag = join(dir.path, 'flag');
    writeFileSync(file, `Match host cached exec "test -e ${flag}"\n  Port 2400\nHost cached\n  HostName 192.0.2.8\n`);
    expect(await resolve(file)).toMatchObject({ port: 22 });
    writeFileSync(flag, '');
    expect(await resolve(file)).toMatchObject({ port: 2400 });
  });

  it('keeps ssh -v chatter out of an error', async () => {
    const bad = join(dir.path, 'bad');
    writeFileSync(bad, 'Host x\n  NoSuchOption yes\n');
    const err: unknown = await resolve(bad, 'x').catch((e: unknown) => e);
    expect(isEnnioError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/ssh -G x failed: .*NoSuchOption/is);
    expect((err as Error).message).not.toContain('debug1');
  });
});
