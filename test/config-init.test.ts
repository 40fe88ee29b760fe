import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONFIG_NAMES } from '../src/config/discover.js';
import { projectNameFrom, writeStarter } from '../src/config/init-template.js';
import { loadConfig } from '../src/config/load.js';

let root: string;
beforeEach(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'ennio-init-')));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('writeStarter', () => {
  it('creates the directory and a starter that loads without any environment', () => {
    const dir = join(root, 'new', 'my repo');
    const file = writeStarter(dir);
    expect(file).toBe(join(dir, 'ennio.yaml'));
    const loaded = loadConfig(file, { env: {} });
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config.projects).toHaveLength(1);
    expect(loaded.config.projects[0]).toMatchObject({ name: 'my-repo', path: dir, agent: 'claude-code' });
    expect(loaded.config.projects[0]?.ssh_config).toBeUndefined();
  });

  it('documents the remote example in comments', () => {
    const text = readFileSync(writeStarter(root), 'utf8');
    for (const key of ['ssh_config:', 'auth:', 'strategy:', 'host_key_policy:', 'node_config:', '${SSH_PASSPHRASE}']) {
      expect(text).toContain(key);
    }
  });

  it('the commented remote example is itself valid once uncommented', () => {
    const text = readFileSync(writeStarter(root), 'utf8');
    const uncommented = text.replace(/^ {2}# (- name: remote-project[\s\S]*)$/m, (block) =>
      block.replace(/^ {2}# /gm, '  '),
    );
    const file = join(root, 'remote.yaml');
    writeFileSync(file, uncommented);
    const loaded = loadConfig(file, { env: { SSH_PASSPHRASE: 'p', ENNIO_NODE_TOKEN: 't' } });
    const remote = loaded.config.projects[1];
    expect(remote?.ssh_config?.strategy).toBe('tmux');
    expect(remote?.ssh_config?.node_config?.port).toBe(9100);
  });

  it.each(CONFIG_NAMES)('refuses to overwrite an existing %s', (name) => {
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, name), 'original\n');
    expect(() => writeStarter(root)).toThrow(expect.objectContaining({ code: 'CONFIG_EXISTS' }));
    expect(readFileSync(join(root, name), 'utf8')).toBe('original\n');
    expect(name === 'ennio.yaml' || !existsSync(join(root, 'ennio.yaml'))).toBe(true);
  });

  it('escapes ${ in the project path so it is not taken for a variable', () => {
    const dir = join(root, 'odd${HOME}dir');
    const loaded = loadConfig(writeStarter(dir), { env: {} });
    expect(loaded.config.projects[0]?.path).toBe(dir);
    expect(projectNameFrom(dir)).toBe('odd-HOME-dir');
  });
});
