/**
 * OpenSSH known_hosts files (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): plain and hashed
 * (`|1|salt|hmac-sha1`) host fields, comma lists with `*`/`?` wildcards and `!` negation,
 * `[host]:port` for ports other than 22, @revoked / @cert-authority markers, comments.
 * Pure functions plus the two file operations (read, append). Keys are compared by their
 * wire blob, whose first field is the key type.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface KnownHostEntry {
  file: string;
  /** 1-based line number. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The host field as written (maybe hashed). */
  hosts: string;
  keyType: string;
  blob: Buffer;
}

export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else return; // an unknown marker: OpenSSH skips the line too
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64) return;
    const blob = Buffer.from(b64, 'base64');
    if (blob.length === 0) return;
    entries.push({ file, line: index + 1, ...(marker ? { marker } : {}), hosts, keyType, blob });
  });
  return entries;
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

function hashedMatches(field: string, name: string): boolean {
  const parts = field.split('|');
  // "|1|salt|hash" splits into ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1' || !parts[2] || !parts[3]) return false;
  const salt = Buffer.from(parts[2], 'base64');
  const expected = Buffer.from(parts[3], 'base64');
  const actual = createHmac('sha1', salt).update(name).digest();
  return actual.length === expected.length && actual.equals(expected);
}

/** Does the host field of an entry match `name` (from knownHostName)? */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return hashedMatches(field, name);
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern === '') continue;
    const negated = pattern.startsWith('!');
    const p = negated ? pattern.slice(1) : pattern;
    if (globToRegExp(p).test(name)) {
      if (negated) return false; // a negated match wins over everything else
      matched = true;
    }
  }
  return matched;
}

/** The key type from a key blob (first SSH string of the wire format). */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) return '';
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** OpenSSH style: `SHA256:` + unpadded base64 of the SHA-256 of the blob. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

export type HostKeyMatch =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'revoked'; entry: KnownHostEntry }
  /** Same host, same key type, different key: a possible man in the middle. */
  | { status: 'changed'; entry: KnownHostEntry }
  | { status: 'unknown' };

/** Check a presented key (its blob) against entries for `name`. */
export function checkKnownHost(entries: readonly KnownHostEntry[], name: string, blob: Buffer): HostKeyMatch {
  const type = keyTypeOfBlob(blob);
  const revoked = entries.find((e) => e.marker === 'revoked' && e.blob.equals(blob));
  if (revoked) return { status: 'revoked', entry: revoked };
  // cert-authority lines vouch for certificates, which plain host keys are not; ignore them.
  const forHost = entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name));
  const known = forHost.find((e) => e.blob.equals(blob));
  if (known) return { status: 'known', entry: known };
  const changed = forHost.find((e) => keyTypeOfBlob(e.blob) === type);
  if (changed) return { status: 'changed', entry: changed };
  return { status: 'unknown' };
}

/** Key types already known for `name`, so the client can prefer them in key exchange. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  const types = entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, name)).map((e) => keyTypeOfBlob(e.blob));
  return [...new Set(types)];
}

/** One known_hosts line; hashed like `ssh-keygen -H` when asked. */
export function formatKnownHostLine(name: string, blob: Buffer, options: { hashed?: boolean } = {}): string {
  let field = name;
  if (options.hashed) {
    const salt = randomBytes(20);
    field = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  }
  return `${field} ${keyTypeOfBlob(blob)} ${blob.toString('base64')}`;
}

/**
 * Read and parse files; a missing file has no entries. Read synchronously: known_hosts
 * files are small, and an async read waits for the event loop, which a command still
 * loading its modules keeps busy for tens of ms while the connect waits (pre-dial.ts).
 */
export async function loadKnownHosts(paths: readonly string[]): Promise<KnownHostEntry[]> {
  const all: KnownHostEntry[] = [];
  for (const path of paths) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    all.push(...parseKnownHosts(text, path));
  }
  return all;
}

/** Append a line, creating the file (0600) and its directory (0700) when missing. */
export async function appendKnownHostLine(path: string, line: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const existing = await readFile(path);
    if (existing.length > 0 && existing[existing.length - 1] !== 0x0a) prefix = '\n';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  // mode only applies when the file is created; an existing file keeps its owner's choice.
  await appendFile(path, `${prefix}${line}\n`, { mode: 0o600 });
}
