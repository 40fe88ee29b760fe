/**
 * The client side of ListRuntimes: proto entries → RuntimeStatus, and the fallback for a
 * daemon that predates the RPC (it answers UNIMPLEMENTED): IsAlive per runtime, all on the
 * one HTTP/2 connection, so an old daemon still works, only with more calls.
 */
import type { ActivityAsk, ActivitySeen } from '../../activity/probe.js';
import type { HostClock } from '../../activity/state-lines.js';
import { EnnioError, type ErrorCode } from '../../core/errors.js';
import type { Liveness } from '../../ops/tmux.js';
import type { RuntimeHandle, RuntimeStatus } from '../../strategies/types.js';
import type { ActivityRequest, RuntimeActivity, RuntimeState } from '../gen/ennio_node_pb.js';

const STATES = new Set<string>(['running', 'exited', 'missing']);

/** The activity asks for the handles of one call (src/activity/tracker.ts says what to read). */
export function activityRequests(handles: readonly RuntimeHandle[], asks: ReadonlyMap<string, ActivityAsk>): Array<Omit<ActivityRequest, '$typeName'>> {
  return handles.flatMap((h) => {
    const ask = asks.get(h.id);
    if (!ask) return [];
    return [{
      id: h.id,
      stateFile: ask.stateFile,
      offset: BigInt(ask.offset),
      captureUnlessMark: ask.capture?.unlessMark ?? '',
      captureMinQuietSecs: ask.capture ? ask.capture.minQuietS : -1,
    }];
  });
}

/** What the daemon read for a runtime's activity, as the tracker takes it from any reader. */
function activitySeen(a: RuntimeActivity, windowActivityMs: bigint, clock: HostClock): ActivitySeen {
  // A file it could not read gave no lines: the activity stays as last known (and the screen still counts).
  return {
    clock,
    lines: a.error === '' ? a.lines : '',
    from: Number(a.fromOffset),
    ...(windowActivityMs > 0n ? { windowActivity: Math.floor(Number(windowActivityMs) / 1000) } : {}),
    ...(a.screen !== undefined ? { screen: a.screen } : {}),
  };
}

export function statusFromProto(entry: RuntimeState, label: string, clock: HostClock = { nowMs: Date.now() }): RuntimeStatus | EnnioError {
  if (entry.error !== '' || !STATES.has(entry.state)) {
    const code = (entry.errorCode || 'NODE_RPC') as ErrorCode;
    return new EnnioError(code, `ennio-node on ${label} could not check runtime ${entry.id}: ${entry.error || `unknown state ${JSON.stringify(entry.state)}`}`);
  }
  return {
    state: entry.state as Liveness,
    ...(entry.hasExitCode ? { exitCode: entry.exitCode } : {}),
    ...(entry.currentCommand ? { currentCommand: entry.currentCommand } : {}),
    ...(entry.activityUnixMs > 0n ? { activityAt: Number(entry.activityUnixMs) } : {}),
    // Absent from a daemon that predates activity in ListRuntimes.
    ...(entry.activity ? { activity: activitySeen(entry.activity, entry.activityUnixMs, clock) } : {}),
  };
}

export interface RuntimeStatesSource {
  /** undefined: the daemon does not know ListRuntimes. */
  listRuntimes(handles: readonly RuntimeHandle[], activity?: ReadonlyMap<string, ActivityAsk>): Promise<Map<string, RuntimeStatus | Error> | undefined>;
  liveness(handle: RuntimeHandle): Promise<Liveness>;
}

/** The status of every handle: one ListRuntimes call, or IsAlive per handle from an older daemon. */
export async function runtimeStates(source: RuntimeStatesSource, handles: readonly RuntimeHandle[], activity?: ReadonlyMap<string, ActivityAsk>): Promise<Map<string, RuntimeStatus | Error>> {
  const listed = await source.listRuntimes(handles, activity);
  if (listed) return listed;
  const out = new Map<string, RuntimeStatus | Error>();
  await Promise.all(
    handles.map(async (h) => {
      try {
        out.set(h.id, { state: await source.liveness(h) });
      } catch (err) {
        // The daemon itself gone fails the whole sweep of this node (backoff); one bad handle does not.
        if (err instanceof EnnioError && (err.code === 'NODE_UNAVAILABLE' || err.code === 'SSH_CONNECT')) throw err;
        out.set(h.id, err instanceof Error ? err : new Error(String(err)));
      }
    }),
  );
  return out;
}
