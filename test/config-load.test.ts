import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { EnnioError } from '../src/core/errors.js';

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'ennio-load-')));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(text: string): string {
  const file = join(dir, 'ennio.yaml');
  writeFileSync(file, text);
  return file;
}

function failure(text: string): EnnioError {
  try {
    loadConfig(write(text), { env: {}, displayName: 'ennio.yaml' });
  } catch (err) {
    if (err instanceof EnnioError) return err;
    throw err;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig', () => {
  it('loads a valid file with defaults applied', () => {
    const file = write('projects:\n  - name: app\n    path: /srv/app\n    ssh_config:\n      host: build\n      connection_timeout: 5s\n');
    const loaded = loadConfig(file, { env: {} });
    expect(loaded.path).toBe(file);
    expect(loaded.dir).toBe(dir);
    expect(loaded.config.defaults.agent).toBe('claude-code');
    const ssh = loaded.config.projects[0]?.ssh_config;
    expect(ssh?.connection_timeout).toBe(5000);
    expect(ssh?.host_key_policy).toBe('accept_new');
    expect(loaded.where(['projects', 0, 'ssh_config', 'host'])).toBe(`${file}:5:13`);
  });

  it('treats an empty file as a config without projects', () => {
    expect(loadConfig(write(''), { env: {} }).config.projects).toEqual([]);
  });

  it('reports invalid YAML as CONFIG_INVALID with file:line:col', () => {
    const err = failure('projects:\n  - name: app\n    path: /x\n   bad: [1, 2\n');
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(/^ennio\.yaml:\d+:\d+: /);
    const dup = failure('port: 1\nport: 2\n');
    expect(dup.message).toMatch(/^ennio\.yaml:2:1: .*unique/);
  });

  it('uses the absolute path in messages when the file is outside cwd', () => {
    const file = write('port: nope\n');
    expect(() => loadConfig(file, { env: {} })).toThrow(`${file}:1:7 port: expected number, got string "nope"`);
  });

  it('flags an unknown project key with a did-you-mean hint at the key position', () => {
    const err = failure('projects:\n  - name: app\n    path: /x\n    pathh: /y\n');
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('ennio.yaml:4:5 projects[0].pathh: unknown key "pathh" — did you mean "path"?');
    expect(err.hint).toContain('ennio config schema');
  });

  it('flags unknown keys nested inside ssh_config and auth', () => {
    const err = failure(
      [
        'projects:',
        '  - name: app',
        '    path: /x',
        '    ssh_config:',
        '      host: h',
        '      usrname: deploy',
        '      auth:',
        '        type: key',
        '        path: ~/.ssh/id',
        '        passprase: x',
        '      node_config:',
        '        idle_timout: 5',
      ].join('\n'),
    );
    const lines = err.message.split('\n');
    expect(lines).toEqual([
      'ennio.yaml:6:7 projects[0].ssh_config.usrname: unknown key "usrname" — did you mean "username"?',
      'ennio.yaml:10:9 projects[0].ssh_config.auth.passprase: unknown key "passprase" — did you mean "passphrase"?',
      'ennio.yaml:12:9 projects[0].ssh_config.node_config.idle_timout: unknown key "idle_timout" — did you mean "idle_timeout"?',
    ]);
  });

  it('lists the allowed keys when no key is close', () => {
    const err = failure('projects:\n  - name: app\n    path: /x\n    ssh_config: { host: h, auth: { type: agent, zzzzzzzz: 1 } }\n');
    expect(err.message).toContain('projects[0].ssh_config.auth.zzzzzzzz: unknown key "zzzzzzzz" (allowed here: type)');
  });

  it('reports wrong types and enum values with key path and line', () => {
    const err = failure(
      'projects:\n  - name: app\n    path: /x\n    ssh_config:\n      host: h\n      port: twenty-two\n      strategy: tmx\n      auth: { type: kee }\n',
    );
    expect(err.code).toBe('CONFIG_INVALID');
    const lines = err.message.split('\n');
    expect(lines[0]).toBe('ennio.yaml:6:13 projects[0].ssh_config.port: expected number, got string "twenty-two"');
    expect(lines[1]).toContain('ennio.yaml:7:17 projects[0].ssh_config.strategy: expected one of "tmux"');
    expect(lines[1]).toContain('did you mean "tmux"?');
    expect(lines[2]).toContain('ennio.yaml:8:21 projects[0].ssh_config.auth.type: expected one of "key", "agent", "password"');
  });

  it('reports a missing required key at its parent mapping', () => {
    const err = failure('projects:\n  - name: app\n    agent: aider\n');
    expect(err.message).toBe('ennio.yaml:2:5 projects[0].path: required key "path" is missing (expected string)');
  });

  it('never echoes a secret value in a type error', () => {
    const err = failure('projects:\n  - name: app\n    path: /x\n    ssh_config:\n      host: h\n      auth: { type: password, password: [hunter2] }\n');
    expect(err.message).toContain('projects[0].ssh_config.auth.password: expected string, got a list');
    expect(err.message).not.toContain('hunter2');
  });

  it('rejects duplicate project names at the second one', () => {
    const err = failure('projects:\n  - name: app\n    path: /x\n  - name: app\n    path: /y\n');
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe('ennio.yaml:4:11 projects[1].name: duplicate project name "app" (also projects[0]); project names must be unique');
  });

  it('rejects agent custom without a command', () => {
    const err = failure('projects:\n  - name: app\n    path: /x\n    agent: custom\n');
    expect(err.message).toMatch(/^ennio\.yaml:4:12 projects\[0\]\.agent: agent "custom" needs the command/);
  });

  it('warns about a secret written literally into the file', () => {
    const file = write('projects:\n  - name: app\n    path: /x\n    ssh_config:\n      host: h\n      auth: { type: password, password: hunter2 }\n');
    const loaded = loadConfig(file, { env: {}, displayName: 'ennio.yaml' });
    expect(loaded.warnings).toEqual([
      'ennio.yaml:6:41 projects[0].ssh_config.auth.password: password is written in the file; prefer ${SSH_PASSWORD} so the secret is not committed',
    ]);
  });

  it('reports a missing file as CONFIG_NOT_FOUND', () => {
    expect(() => loadConfig(join(dir, 'absent.yaml'))).toThrow(expect.objectContaining({ code: 'CONFIG_NOT_FOUND' }));
  });
});
