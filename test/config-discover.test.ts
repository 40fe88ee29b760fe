import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONFIG_NAMES, configInDir, discoverConfig, findConfig } from '../src/config/discover.js';
import { EnnioError } from '../src/core/errors.js';

let root: string;
beforeEach(() => {
  // realpath: /tmp may be a symlink, and discovery returns resolved paths.
  root = realpathSync(mkdtempSync(join(tmpdir(), 'ennio-discover-')));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function touch(path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, 'projects: []\n');
  return path;
}

function codeOf(fn: () => unknown): { code: string; message: string; hint?: string | undefined } {
  try {
    fn();
  } catch (err) {
    if (err instanceof EnnioError) return { code: err.code, message: err.message, hint: err.hint };
    throw err;
  }
  throw new Error('expected an EnnioError');
}

describe('discoverConfig', () => {
  it.each(CONFIG_NAMES)('finds %s in the start directory', (name) => {
    const file = touch(join(root, name));
    expect(discoverConfig({ cwd: root, env: {} })).toBe(file);
  });

  it('walks up from a nested directory to the nearest config', () => {
    const top = touch(join(root, 'ennio.yaml'));
    const deep = join(root, 'a', 'b', 'c');
    mkdirSync(deep, { recursive: true });
    expect(discoverConfig({ cwd: deep, env: {} })).toBe(top);
    const nearer = touch(join(root, 'a', '.ennio.yml'));
    expect(discoverConfig({ cwd: deep, env: {} })).toBe(nearer);
  });

  it('prefers the names in their documented order within one directory', () => {
    touch(join(root, '.ennio.yml'));
    touch(join(root, '.ennio.yaml'));
    expect(discoverConfig({ cwd: root, env: {} })).toBe(join(root, '.ennio.yaml'));
    touch(join(root, 'ennio.yml'));
    expect(discoverConfig({ cwd: root, env: {} })).toBe(join(root, 'ennio.yml'));
    touch(join(root, 'ennio.yaml'));
    expect(configInDir(root)).toBe(join(root, 'ennio.yaml'));
  });

  it('lets -c override discovery, relative to cwd, and accepts a directory', () => {
    touch(join(root, 'ennio.yaml'));
    const other = touch(join(root, 'elsewhere', 'custom.yaml'));
    expect(discoverConfig({ cwd: root, explicit: 'elsewhere/custom.yaml', env: {} })).toBe(other);
    expect(findConfig(root, other)).toBe(other);
    const inDir = touch(join(root, 'cfgdir', 'ennio.yml'));
    expect(discoverConfig({ cwd: root, explicit: join(root, 'cfgdir'), env: {} })).toBe(inDir);
  });

  it('accepts ENNIO_CONFIG, and -c wins over it', () => {
    const fromEnv = touch(join(root, 'env', 'x.yaml'));
    const explicit = touch(join(root, 'cli', 'y.yaml'));
    expect(discoverConfig({ cwd: root, env: { ENNIO_CONFIG: fromEnv } })).toBe(fromEnv);
    expect(discoverConfig({ cwd: root, env: { ENNIO_CONFIG: fromEnv }, explicit })).toBe(explicit);
  });

  it('reports a missing -c file as CONFIG_NOT_FOUND naming it', () => {
    const err = codeOf(() => discoverConfig({ cwd: root, explicit: 'nope.yaml', env: {} }));
    expect(err.code).toBe('CONFIG_NOT_FOUND');
    expect(err.message).toContain(join(root, 'nope.yaml'));
  });

  it('says where it looked and suggests ennio init when nothing is found', () => {
    const start = join(root, 'x', 'y');
    mkdirSync(start, { recursive: true });
    // A stray config above the temp dir (e.g. /tmp/ennio.yaml) would legitimately be found.
    let above: string | undefined;
    for (let d = dirname(root); !above; d = dirname(d)) {
      above = configInDir(d);
      if (dirname(d) === d) break;
    }
    if (above) {
      expect(discoverConfig({ cwd: start, env: {} })).toBe(above);
      return;
    }
    const err = codeOf(() => discoverConfig({ cwd: start, env: {} }));
    expect(err.code).toBe('CONFIG_NOT_FOUND');
    expect(err.message).toContain(start);
    expect(err.message).toContain('ennio.yaml');
    expect(err.hint).toContain('ennio init');
  });
});
