/**
 * Where the daemon's auth token comes from, with the usual precedence — a flag given on
 * the command line wins over the environment: --auth-token-file (a 0600 file, or stdin
 * with "-") or --auth-token (the two exclude each other), else ENNIO_NODE_AUTH_TOKEN.
 * Our orchestrator uses the file for the daemon it uploads, and the spec's environment
 * variable for a configured ennio_binary_path, so the token never appears in argv (`ps`).
 * --auth-token does put it in argv: main.ts then overwrites the process title at once.
 */
import { readFileSync, statSync } from 'node:fs';
import type { DaemonOptions } from './options.js';
import { UsageError } from './options.js';

export const TOKEN_ENV = 'ENNIO_NODE_AUTH_TOKEN';

export interface TokenSource {
  token: string | undefined;
  /** 'file', 'stdin', 'env', 'argv' or 'none' — logged, the token itself never is. */
  source: 'file' | 'stdin' | 'env' | 'argv' | 'none';
}

function clean(raw: string, where: string): string {
  // Files and stdin usually end with a newline; a token never contains whitespace.
  const token = raw.trim();
  if (token === '') throw new UsageError(`the auth token from ${where} is empty`);
  if (/\s/.test(token)) throw new UsageError(`the auth token from ${where} contains whitespace`);
  return token;
}

export function readToken(opts: DaemonOptions, env: NodeJS.ProcessEnv = process.env): TokenSource {
  const fromEnv = env[TOKEN_ENV];
  // Remove it from our environment in every case: tmux servers started by the daemon
  // copy its environment into every agent session. (/proc/<pid>/environ still shows the
  // initial environment to the same user — one more reason the orchestrator uses a file.)
  delete env[TOKEN_ENV];
  if (opts.authTokenFile === '-') return { token: clean(readFileSync(0, 'utf8'), 'stdin'), source: 'stdin' };
  if (opts.authTokenFile !== undefined) {
    let mode: number;
    try {
      mode = statSync(opts.authTokenFile).mode;
    } catch (err) {
      throw new UsageError(`cannot read --auth-token-file ${opts.authTokenFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    if ((mode & 0o077) !== 0) {
      throw new UsageError(
        `--auth-token-file ${opts.authTokenFile} is readable by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 on it`,
      );
    }
    return { token: clean(readFileSync(opts.authTokenFile, 'utf8'), opts.authTokenFile), source: 'file' };
  }
  if (opts.authToken !== undefined) return { token: clean(opts.authToken, '--auth-token'), source: 'argv' };
  if (fromEnv !== undefined && fromEnv !== '') return { token: clean(fromEnv, TOKEN_ENV), source: 'env' };
  return { token: undefined, source: 'none' };
}
