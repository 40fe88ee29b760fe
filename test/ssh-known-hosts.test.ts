import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  appendKnownHostLine,
  checkKnownHost,
  fingerprint,
  formatKnownHostLine,
  hostFieldMatches,
  keyTypeOfBlob,
  knownHostName,
  parseKnownHosts,
} from '../src/host/ssh/known-hosts.js';
import { preferKnownTypes } from '../src/host/ssh/host-key-policy.js';
import { keygen, readPublicKey } from './helpers/sshd.js';
import { tempDir } from './helpers/ssh-env.js';

const dir = tempDir('ennio-kh-');
afterAll(() => dir.remove());
const keys = (['ed25519', 'rsa', 'ecdsa'] as const).map((type) => {
  const path = join(dir.path, `k_${type}`);
  keygen(path, type);
  return { path, ...readPublicKey(`${path}.pub`) };
});
const [ed, rsa, ec] = keys as [(typeof keys)[0], (typeof keys)[0], (typeof keys)[0]];
const other = join(dir.path, 'other');
keygen(other, 'ed25519');
const ed2 = readPublicKey(`${other}.pub`);

describe('known_hosts parsing and matching', () => {
  it('names non-22 ports [host]:port', () => {
    expect(knownHostName('h', 22)).toBe('h');
    expect(knownHostName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  it('matches comma lists, wildcards and negation', () => {
    expect(hostFieldMatches('a.example,b.example', 'b.example')).toBe(true);
    expect(hostFieldMatches('*.example', 'x.EXAMPLE')).toBe(true);
    expect(hostFieldMatches('*.example,!bad.example', 'bad.example')).toBe(false);
    expect(hostFieldMatches('[127.0.0.1]:2222', '127.0.0.1')).toBe(false);
    expect(hostFieldMatches('127.0.0.1', '[127.0.0.1]:2222')).toBe(false);
  });

  it('matches entries hashed by ssh-keygen -H', () => {
    const file = join(dir.path, 'hashed');
    writeFileSync(file, `[127.0.0.1]:2222 ${ed.publicLine}\nexample.org ${rsa.publicLine}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
    expect(entries.every((e) => e.hosts.startsWith('|1|'))).toBe(true);
    expect(checkKnownHost(entries, '[127.0.0.1]:2222', ed.blob).status).toBe('known');
    expect(checkKnownHost(entries, 'example.org', rsa.blob).status).toBe('known');
    expect(checkKnownHost(entries, 'example.org', ed.blob).status).toBe('unknown');
    expect(checkKnownHost(entries, '[127.0.0.1]:2222', ed2.blob).status).toBe('changed');
  });

  it('handles several key types per host, comments, markers and file:line', () => {
    const text = [
      '# a comment',
      '',
      `h1 ${rsa.publicLine} comment words`,
      `h1 ${ed.publicLine}`,
      `@cert-authority *.example ${ec.publicLine}`,
      `@revoked * ${ed2.publicLine}`,
      'garbage',
    ].join('\n');
    const entries = parseKnownHosts(text, '/kh');
    expect(entries.map((e) => [e.line, e.marker ?? '-'])).toEqual([[3, '-'], [4, '-'], [5, 'cert-authority'], [6, 'revoked']]);
    expect(checkKnownHost(entries, 'h1', ed.blob)).toMatchObject({ status: 'known', entry: { line: 4 } });
    expect(checkKnownHost(entries, 'h1', rsa.blob)).toMatchObject({ status: 'known', entry: { line: 3 } });
    // The cert-authority line is not a host key for x.example.
    expect(checkKnownHost(entries, 'x.example', ec.blob).status).toBe('unknown');
    expect(checkKnownHost(entries, 'h1', ed2.blob)).toMatchObject({ status: 'revoked', entry: { line: 6 } });
  });

  it('reports a changed key with the entry it contradicts', () => {
    const entries = parseKnownHosts(`h2 ${ed.publicLine}\n`, '/kh');
    expect(checkKnownHost(entries, 'h2', ed2.blob)).toMatchObject({ status: 'changed', entry: { file: '/kh', line: 1 } });
  });

  it('computes OpenSSH fingerprints (same as ssh-keygen -lf)', () => {
    for (const k of keys) {
      const expected = execFileSync('ssh-keygen', ['-lf', `${k.path}.pub`, '-E', 'sha256'], { encoding: 'utf8' }).split(' ')[1];
      expect(fingerprint(k.blob)).toBe(expected);
      expect(keyTypeOfBlob(k.blob)).toBe(k.type);
    }
  });

  it('writes plain and hashed lines that ssh-keygen -F finds', async () => {
    const file = join(dir.path, 'written');
    writeFileSync(file, `h0 ${rsa.publicLine}`); // no trailing newline: append must add one
    await appendKnownHostLine(file, formatKnownHostLine('[127.0.0.1]:2200', ed.blob));
    await appendKnownHostLine(file, formatKnownHostLine('[127.0.0.1]:2201', ed.blob, { hashed: true }));
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines[1]).toBe(`[127.0.0.1]:2200 ${ed.publicLine}`);
    for (const name of ['h0', '[127.0.0.1]:2200', '[127.0.0.1]:2201']) {
      const found = execFileSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8' });
      expect(found).toContain('# Host');
    }
  });

  it('prefers host key algorithms already known', () => {
    expect(preferKnownTypes(['ssh-rsa']).slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(preferKnownTypes([])[0]).toBe('ssh-ed25519');
  });
});
