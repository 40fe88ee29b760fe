import { readdirSync, readFileSync } from 'node:fs';

/** Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat); undefined when it is gone or a zombie. */
export function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after the last ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie (killed, not yet reaped by its parent or init) has stopped running for good.
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined; // no such process
    throw err; // anything else is not evidence that the process is gone
  }
}

/** Whether the process that had this pid and start time still runs (a recycled pid is not it). */
export function sameProcessAlive(pid: number, start: string | undefined): boolean {
  return pid > 0 && start !== undefined && startTicks(pid) === start;
}

/**
 * Pids of this user's processes whose environment holds NAME=VALUE exactly (Linux /proc).
 * Processes that exit while we look, or that we may not read, are skipped.
 */
export function pidsWithEnv(name: string, value: string): number[] {
  const wanted = `${name}=${value}`;
  const out: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out; // no /proc: nothing can be found this way
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
    } catch {
      continue; // exited meanwhile, or not ours to read
    }
    if (environ.split('\0').includes(wanted)) out.push(Number(entry));
  }
  return out;
}

/** Process group id of a live process (field 5 of /proc/PID/stat); undefined when it is gone. */
export function processGroup(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}
