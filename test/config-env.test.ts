import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expandString } from '../src/config/env-expand.js';
import { loadConfig } from '../src/config/load.js';
import { EnnioError } from '../src/core/errors.js';

let dir: string;
beforeEach(() => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'ennio-env-')));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(text: string): string {
  const file = join(dir, 'ennio.yaml');
  writeFileSync(file, text);
  return file;
}

const REMOTE = [
  'projects:',
  '  - name: app',
  '    path: ${REPOS}/app',
  '    ssh_config:',
  '      host: ${BUILD_HOST:-build.example.com}',
  '      port: ${SSH_PORT}',
  '      auth:',
  '        type: password',
  '        password: ${SSH_PASSWORD}',
  '      known_hosts_path: "${KH}"',
  '      proxy_jump: "literal $${NOT_A_VAR}"',
  '',
].join('\n');

describe('${VAR} expansion', () => {
  it('expands variables, defaults, escapes, and retypes unquoted numbers', () => {
    const loaded = loadConfig(write(REMOTE), {
      env: { REPOS: '/srv/repos', SSH_PORT: '2222', SSH_PASSWORD: 'pw', KH: '123' },
    });
    const p = loaded.config.projects[0];
    expect(p?.path).toBe('/srv/repos/app');
    expect(p?.ssh_config?.host).toBe('build.example.com');
    expect(p?.ssh_config?.port).toBe(2222);
    expect(p?.ssh_config?.auth).toEqual({ type: 'password', password: 'pw' });
    // Quoted scalars stay strings even when the value looks like a number.
    expect(p?.ssh_config?.known_hosts_path).toBe('123');
    expect(p?.ssh_config?.proxy_jump).toBe('literal ${NOT_A_VAR}');
    expect(loaded.warnings).toEqual([]);
  });

  it('names every missing variable with file:line:col and key path', () => {
    let err: unknown;
    try {
      loadConfig(write(REMOTE), { env: { REPOS: '/srv' }, displayName: 'ennio.yaml' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EnnioError);
    const e = err as EnnioError;
    expect(e.code).toBe('ENV_MISSING');
    expect(e.message.split('\n')).toEqual([
      'ennio.yaml:6:13 projects[0].ssh_config.port: environment variable SSH_PORT is not set',
      'ennio.yaml:9:19 projects[0].ssh_config.auth.password: environment variable SSH_PASSWORD is not set',
      'ennio.yaml:10:25 projects[0].ssh_config.known_hosts_path: environment variable KH is not set',
    ]);
    expect(e.hint).toContain('SSH_PORT, SSH_PASSWORD, KH');
  });

  it('does not expand inside comments or keys', () => {
    const loaded = loadConfig(write('# ${UNSET_IN_COMMENT}\nprojects:\n  - name: app\n    path: /x\n'), { env: {} });
    expect(loaded.config.projects[0]?.name).toBe('app');
  });

  it('rejects a malformed reference as CONFIG_INVALID with its position', () => {
    expect(() => loadConfig(write('projects:\n  - name: app\n    path: ${1BAD}\n'), { env: {}, displayName: 'ennio.yaml' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^ennio\.yaml:3:11 projects\[0\]\.path: "\$\{1BAD\}" is not a variable reference/) }),
    );
  });

  it('expandString follows shell :- semantics', () => {
    expect(expandString('${A:-d}', { A: '' })).toEqual({ ok: true, value: 'd', used: true, missing: [] });
    expect(expandString('${A}', { A: '' })).toEqual({ ok: true, value: '', used: true, missing: [] });
    expect(expandString('a$${B}c', {})).toEqual({ ok: true, value: 'a${B}c', used: false, missing: [] });
    expect(expandString('${A}${B}', {})).toMatchObject({ ok: true, missing: ['A', 'B'] });
    expect(expandString('${A', {})).toMatchObject({ ok: false });
  });
});
