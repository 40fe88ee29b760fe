/**
 * Where the orchestrator keeps generated daemon tokens: one 0600 file per SSH target
 * (user@host:port) under $ENNIO_HOME/node/tokens (directory 0700). A restarted
 * orchestrator reads the same token back, so it never regenerates into a mismatch with
 * a daemon that is still running. (node_config.auth_token, when set, wins over this.)
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { EnnioError } from '../../core/errors.js';

export function ennioHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = env['ENNIO_HOME'];
  return home ? resolve(home) : join(homedir(), '.ennio');
}

/** 256 random bits, URL-safe (no whitespace or quoting trouble in files and headers). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

export class TokenStore {
  readonly dir: string;

  constructor(home: string = ennioHome()) {
    this.dir = join(home, 'node', 'tokens');
  }

  private file(key: string): string {
    // user@host:port → a safe file name; distinct keys stay distinct.
    return join(this.dir, encodeURIComponent(key));
  }

  get(key: string): string | undefined {
    try {
      const token = readFileSync(this.file(key), 'utf8').trim();
      return token === '' ? undefined : token;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new EnnioError('INTERNAL', `cannot read the node token for ${key}: ${(err as Error).message}`, { cause: err });
    }
  }

  set(key: string, token: string): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    const file = this.file(key);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
    renameSync(tmp, file); // atomic: a concurrent reader sees the old or the new token
  }
}
