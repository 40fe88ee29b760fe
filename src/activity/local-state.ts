/** Reading this machine's state files and clock directly (no command): what local sessions use. */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import type { HostClock } from './state-lines.js';

/** The clock with seconds since boot, to place `u<uptime>` lines (src/activity/hook-script.ts). */
export function localClock(): HostClock {
  try {
    return { nowMs: Date.now(), uptimeS: Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) };
  } catch {
    return { nowMs: Date.now() };
  }
}

/** New bytes of a local state file from `offset` (a file shorter than that was recreated: from 0). */
export function readLocalLines(file: string, offset: number): { text: string; from: number } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', from: 0 };
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    const from = size < offset ? 0 : offset;
    const buf = Buffer.alloc(Math.min(size - from, 4 * 1024 * 1024));
    let read = 0;
    while (read < buf.length) {
      const n = readSync(fd, buf, read, buf.length - read, from + read);
      if (n === 0) break;
      read += n;
    }
    return { text: buf.subarray(0, read).toString('utf8'), from };
  } finally {
    closeSync(fd);
  }
}
