/**
 * One orchestrator per $ENNIO_HOME. The lock file names its holder (pid + start time), so a
 * holder killed -9 is recognised at once and its lock taken over.
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { sameProcessAlive, startTicks } from '../core/proc.js';

export interface LockHolder {
  pid: number;
  start: string;
}

export function readHolder(path: string): LockHolder | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    return typeof h.pid === 'number' && typeof h.start === 'string' ? { pid: h.pid, start: h.start } : undefined;
  } catch {
    return undefined;
  }
}

/** Take the lock, or return the live holder that has it. */
export function acquireLock(path: string): { ok: true; release(): void } | { ok: false; holder: LockHolder } {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, JSON.stringify({ pid: process.pid, start: startTicks(process.pid) ?? '' }));
      closeSync(fd);
      return {
        ok: true,
        release: () => {
          if (readHolder(path)?.pid === process.pid) unlinkSync(path);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(path);
      if (holder && sameProcessAlive(holder.pid, holder.start)) return { ok: false, holder };
      // Written by a process that is gone (or half-written by one killed mid-write).
      if (!holder) {
        // A holder between open and write: give it a moment before calling the file stale.
        const age = Date.now() - statMtime(path);
        if (age < 2000) continue;
      }
      try {
        unlinkSync(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  }
  const holder = readHolder(path);
  if (holder) return { ok: false, holder };
  throw new Error(`cannot take the orchestrator lock ${path}`);
}

function statMtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
