/**
 * A local agent's environment is the environment of the shell that asked for it. A tmux
 * server keeps the environment of whoever started it (another shell, or the orchestrator),
 * and `new-session -e` would put every value, secrets included, in a process's argv. So the
 * caller's environment travels in a 0600 file that the pane's first process loads, deletes,
 * and then execs the agent with exactly that environment (plus the pane's own TERM/TMUX).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Env } from '../core/request-env.js';
import { shellQuote } from '../ops/shell-quote.js';

/** Set by the shell or by tmux for the pane itself; the caller's values would be wrong there. */
const PANE_OWN = new Set(['TERM', 'TMUX', 'TMUX_PANE', 'PWD', 'OLDPWD', 'SHLVL', '_', 'COLUMNS', 'LINES', 'PPID', 'UID', 'EUID', 'SHELLOPTS', 'BASHOPTS']);
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function envFileText(env: Env): string {
  return Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined && NAME.test(e[0]) && !PANE_OWN.has(e[0]))
    .map(([k, v]) => `${k}=${shellQuote(v)}\n`)
    .join('');
}

// Outer sh: start from an empty environment but the pane's terminal facts; inner sh: load
// the file (every assignment exported), remove it, exec the agent.
const LOADER = `exec env -i TERM="$TERM" TMUX="$TMUX" TMUX_PANE="$TMUX_PANE" sh -c 'set -a; . "$0"; set +a; rm -f -- "$0"; exec "$@"' "$@"`;

export function withEnvFile(command: readonly string[], envFile: string): string[] {
  return ['sh', '-c', LOADER, 'ennio-env', envFile, ...command];
}

/** Writes the file under $ENNIO_HOME/run (0700 dir, 0600 file); returns its path and a remover. */
export function writeEnvFile(home: string, env: Env): { path: string; remove(): void } {
  const dir = join(home, 'run');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `agent-env-${randomBytes(8).toString('hex')}`);
  writeFileSync(path, envFileText(env), { mode: 0o600, flag: 'wx' });
  return { path, remove: () => rmSync(path, { force: true }) };
}
