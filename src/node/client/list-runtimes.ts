/**
 * The client side of ListRuntimes: proto entries → RuntimeStatus, and the fallback for a
 * daemon that predates the RPC (it answers UNIMPLEMENTED): IsAlive per runtime, all on the
 * one HTTP/2 connection, so an old daemon still works, only with more calls.
 */
import { EnnioError, type ErrorCode } from '../../core/errors.js';
import type { Liveness } from '../../ops/tmux.js';
import type { RuntimeHandle, RuntimeStatus } from '../../strategies/types.js';
import type { RuntimeState } from '../gen/ennio_node_pb.js';

const STATES = new Set<string>(['running', 'exited', 'missing']);

export function statusFromProto(entry: RuntimeState, label: string): RuntimeStatus | EnnioError {
  if (entry.error !== '' || !STATES.has(entry.state)) {
    const code = (entry.errorCode || 'NODE_RPC') as ErrorCode;
    return new EnnioError(code, `ennio-node on ${label} could not check runtime ${entry.id}: ${entry.error || `unknown state ${JSON.stringify(entry.state)}`}`);
  }
  return {
    state: entry.state as Liveness,
    ...(entry.hasExitCode ? { exitCode: entry.exitCode } : {}),
    ...(entry.currentCommand ? { currentCommand: entry.currentCommand } : {}),
    ...(entry.activityUnixMs > 0n ? { activityAt: Number(entry.activityUnixMs) } : {}),
  };
}

export interface RuntimeStatesSource {
  /** undefined: the daemon does not know ListRuntimes. */
  listRuntimes(handles: readonly RuntimeHandle[]): Promise<Map<string, RuntimeStatus | Error> | undefined>;
  liveness(handle: RuntimeHandle): Promise<Liveness>;
}

/** The status of every handle: one ListRuntimes call, or IsAlive per handle from an older daemon. */
export async function runtimeStates(source: RuntimeStatesSource, handles: readonly RuntimeHandle[]): Promise<Map<string, RuntimeStatus | Error>> {
  const listed = await source.listRuntimes(handles);
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
