/**
 * `ssh -G <alias>` answers kept between processes ($ENNIO_HOME/ssh-g-cache.json): every
 * in-process command would otherwise spawn ssh (~20–30 ms) per host before connecting.
 *
 * An answer is reused only while everything it came from is unchanged: the alias, the -F
 * file, the environment ssh reads (HOME, USER, PATH), the ssh binary, and every config file
 * ssh read — learned from `ssh -G -v` itself ("Reading configuration data …"), so Include
 * works however deep — plus the default files (~/.ssh/config, /etc/ssh/ssh_config) even
 * when absent (creating one changes the answer) and the directory of every Include pattern
 * (a file added there too). Answers that depend on more than files are never kept:
 * `Match exec` / `Match localnetwork` (a command, the network) and CanonicalizeHostname
 * (DNS), `${VAR}` values, or an Include whose directory is a pattern or has tokens. A day at most, whatever.
 */
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { SshGOutput } from './resolve.js';

const FILE = 'ssh-g-cache.json';
const MAX_AGE_MS = 24 * 3_600_000;
const MAX_ENTRIES = 64;
const SYSTEM_CONFIG = '/etc/ssh/ssh_config';
/** ssh finds ~ through the password database, not $HOME. */
const sshHome = (): string => userInfo().homedir;

interface Entry {
  at: number;
  files: Array<[string, string]>;
  output: Array<[string, string[]]>;
}

/** What a file or directory is now ('-' when absent), so any change shows. */
function stamp(path: string): string {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch {
    return '-';
  }
}

function findProgram(program: string, env: NodeJS.ProcessEnv): string {
  if (program.includes('/')) return program;
  for (const dir of (env['PATH'] ?? '').split(':').filter(Boolean)) {
    const candidate = join(dir, program);
    if (stamp(candidate) !== '-') return candidate;
  }
  return program;
}

export interface SshGQuery {
  alias: string;
  file: string | undefined;
  program: string;
  env: NodeJS.ProcessEnv;
}

function keyOf(q: SshGQuery): string {
  return JSON.stringify([q.alias, q.file ?? '', findProgram(q.program, q.env), q.env['HOME'] ?? '', q.env['USER'] ?? '', q.env['PATH'] ?? '', hostname(), process.getuid?.() ?? -1]);
}

/** The config files `ssh -G -v` says it read. */
export function filesRead(verboseStderr: string): string[] {
  return [...verboseStderr.matchAll(/^debug1: Reading configuration data (.+)$/gm)].map((m) => (m[1] ?? '').trim()).filter(Boolean);
}

/** Answers that depend on a command, the network, DNS or the environment (`${VAR}` in values). */
const DYNAMIC = /^\s*(match\b.*\b(exec|localnetwork)\b|canonicalizehostname[\s=]+(yes|always)\b)|\$\{/im;

/**
 * What else must be unchanged for an answer from these files to hold (Include directories),
 * or undefined when the answer depends on more than files. A relative Include is under
 * ~/.ssh in a user's file and under /etc/ssh in the system's: both are watched.
 */
export function dependencies(files: readonly string[]): string[] | undefined {
  const dirs: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    if (DYNAMIC.test(text)) return undefined;
    for (const m of text.matchAll(/^\s*include[\s=]+(.+)$/gim)) {
      for (const raw of (m[1] ?? '').trim().split(/\s+/)) {
        const word = raw.replace(/^"(.*)"$/, '$1');
        if (/[%$]/.test(word)) return undefined;
        const home = word === '~' || word.startsWith('~/') ? `${sshHome()}${word.slice(1)}` : word;
        const paths = isAbsolute(home) ? [home] : [join(sshHome(), '.ssh', home), join(dirname(SYSTEM_CONFIG), home)];
        for (const path of paths) {
          if (/[*?[]/.test(dirname(path))) return undefined;
          dirs.push(dirname(path));
        }
      }
    }
  }
  return dirs;
}

function readEntries(home: string): Record<string, Entry> {
  try {
    const parsed = JSON.parse(readFileSync(join(home, FILE), 'utf8')) as Record<string, Entry>;
    return parsed && typeof parsed === 'object' ? parsed : {};
  } catch {
    return {};
  }
}

/** A kept answer that still holds, or undefined. */
export function lookupSshG(home: string, q: SshGQuery): SshGOutput | undefined {
  const entry = readEntries(home)[keyOf(q)];
  if (!entry || Date.now() - entry.at > MAX_AGE_MS || !Array.isArray(entry.files) || !Array.isArray(entry.output)) return undefined;
  if (entry.files.some(([path, was]) => stamp(path) !== was)) return undefined;
  return new Map(entry.output);
}

/** Keep an answer with what it depends on (best effort: a cache is never worth an error). */
export function storeSshG(home: string, q: SshGQuery, output: SshGOutput, verboseStderr: string): void {
  const read = filesRead(verboseStderr);
  const defaults = q.file ? [q.file] : [join(sshHome(), '.ssh', 'config'), SYSTEM_CONFIG];
  const dirs = dependencies(read);
  if (!dirs) return;
  const watched = [...new Set([...defaults, ...read, ...dirs, findProgram(q.program, q.env)])];
  const entries = readEntries(home);
  entries[keyOf(q)] = { at: Date.now(), files: watched.map((p) => [p, stamp(p)]), output: [...output] };
  const kept = Object.entries(entries).sort((a, b) => b[1].at - a[1].at).slice(0, MAX_ENTRIES);
  const path = join(home, FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(Object.fromEntries(kept))}\n`, { mode: 0o600 });
    renameSync(tmp, path);
  } catch {
    // a read-only home: ssh -G runs each time, as before
  }
}
