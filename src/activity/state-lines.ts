/**
 * Parsing a session's state file (lines written by the hook script, src/activity/hook-script.ts)
 * into hook events on this machine's clock. Times come as seconds since the host booted
 * (`u12345.67`) or as epoch ms; both are turned into "how long ago on the host", so a remote
 * host whose clock is off does not shift anything.
 */
import type { HookEvent } from './types.js';

/** The host's clock at the moment the lines were read. */
export interface HostClock {
  /** Epoch ms on the host. */
  nowMs: number;
  /** Seconds since the host booted (from /proc/uptime), when it has one. */
  uptimeS?: number | undefined;
}

export interface ParsedLines {
  events: HookEvent[];
  /** Bytes of complete lines (a line still being written waits for the next read). */
  consumed: number;
}

export function parseHookLines(text: string, clock: HostClock, localNow: number): ParsedLines {
  const end = text.lastIndexOf('\n');
  if (end < 0) return { events: [], consumed: 0 };
  const complete = text.slice(0, end + 1);
  const events: HookEvent[] = [];
  for (const line of complete.split('\n')) {
    const [time, event, notificationType, agentSessionId] = line.split('\t');
    if (!time || !event) continue;
    const ageMs = time.startsWith('u')
      ? clock.uptimeS === undefined ? 0 : (clock.uptimeS - Number(time.slice(1))) * 1000
      : clock.nowMs - Number(time);
    if (!Number.isFinite(ageMs)) continue;
    events.push({
      at: Math.round(localNow - Math.max(0, ageMs)),
      event,
      ...(notificationType ? { notificationType } : {}),
      ...(agentSessionId ? { agentSessionId } : {}),
    });
  }
  return { events, consumed: Buffer.byteLength(complete) };
}
