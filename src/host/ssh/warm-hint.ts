/**
 * Which SSH targets the previous in-process command of a config connected to, so the next
 * one can start connecting before it has loaded anything else (SshHostRegistry.prewarm):
 * a cold `ennio --no-server send` spends ~200 ms loading zod, yaml, SQLite and its own
 * modules and ~200 ms on the handshake and the first shell, and the two overlap.
 *
 * The hint is only a guess: a prewarmed connection is used only when the target the
 * command resolves from its config is exactly the one in the hint (registry.ts), and the
 * hint is ignored once the config file changed. Targets with a password or passphrase are
 * never written (no secret is ever stored here); the file is 0600 in $ENNIO_HOME.
 * Light on purpose: no ssh2 (the caller loads it only when there is something to warm).
 */
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedSshTarget } from './resolve.js';

const FILE = 'ssh-warm.json';
/** More hosts than this in one command (a big `status`): not worth a guess for the next one. */
const MAX_TARGETS = 10;

interface HintFile {
  version: 1;
  configs: Record<string, { config: string; targets: ResolvedSshTarget[] }>;
}

let warming = false;

/** This process started connections on a guess (they must be closed even if no command used SSH). */
export function noteWarming(): void {
  warming = true;
}

export function warmingStarted(): boolean {
  return warming;
}

/** The config file as it is now (a changed file invalidates its hint). */
function fileStamp(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return undefined;
  }
}

function readHints(home: string): HintFile {
  try {
    const parsed = JSON.parse(readFileSync(join(home, FILE), 'utf8')) as Partial<HintFile>;
    if (parsed.version === 1 && parsed.configs && typeof parsed.configs === 'object') return parsed as HintFile;
  } catch {
    // none yet, or unreadable: no hint
  }
  return { version: 1, configs: {} };
}

/** A target that may be written down: no secret in it. */
export function hintable(t: ResolvedSshTarget): boolean {
  return t.auth === undefined || t.auth.type === 'agent' || (t.auth.type === 'key' && t.auth.passphrase === undefined);
}

/** The targets to prewarm for `configPath`, if its config file is unchanged since they were recorded. */
export function readWarmTargets(home: string, configPath: string): ResolvedSshTarget[] {
  const entry = readHints(home).configs[configPath];
  if (!entry || entry.config !== fileStamp(configPath) || !Array.isArray(entry.targets)) return [];
  return entry.targets.filter((t) => typeof t?.host === 'string' && typeof t.port === 'number' && hintable(t));
}

/** Record what a command of `configPath` connected to (best effort: a hint is never worth an error). */
export function writeWarmTargets(home: string, configPath: string, targets: readonly ResolvedSshTarget[]): void {
  const stamp = fileStamp(configPath);
  const usable = targets.filter(hintable);
  if (!stamp || usable.length === 0 || usable.length > MAX_TARGETS) return;
  const hints = readHints(home);
  const before = hints.configs[configPath];
  if (before?.config === stamp && JSON.stringify(before.targets) === JSON.stringify(usable)) return;
  hints.configs[configPath] = { config: stamp, targets: usable };
  const path = join(home, FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(hints)}\n`, { mode: 0o600 });
    renameSync(tmp, path);
  } catch {
    // read-only home, full disk: the next command just connects later
  }
}
