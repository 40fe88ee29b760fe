/**
 * ListRuntimes (extension): the state of many runtimes in one call, for the orchestrator's
 * sweep. Handles are grouped by tmux server and each server is asked once (`list-panes
 * -a`), so a node answers for any number of sessions with one tmux command per server.
 * A handle that cannot be checked gets its own error entry; the call as a whole fails
 * only when the request is malformed. Runtimes the request asks activity for also get
 * their hook events and screen (runtime-activity.ts), read in the same call.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ActivityRequest, ProtoRuntimeHandle, RuntimeStateSchema } from '../gen/ennio_node_pb.js';
import { localClock } from '../../activity/local-state.js';
import { isEnnioError } from '../../core/errors.js';
import * as tmux from '../../ops/tmux.js';
import type { ServiceContext } from './context.js';
import { ERROR_CODE_TRAILER, rpcError } from './errors.js';
import { readRuntimeActivity } from './runtime-activity.js';
import { targetOf } from './runtime-service.js';

type RuntimeStateInit = MessageInitShape<typeof RuntimeStateSchema>;

/** The most handles one call may carry (a sweep of a very large node is split by the client). */
export const MAX_HANDLES = 10_000;

function errorEntry(id: string, err: unknown): RuntimeStateInit {
  if (err instanceof ConnectError) return { id, error: err.rawMessage, errorCode: err.metadata.get(ERROR_CODE_TRAILER) ?? 'INTERNAL' };
  if (isEnnioError(err)) return { id, error: err.message, errorCode: err.code };
  return { id, error: err instanceof Error ? err.message : String(err), errorCode: 'INTERNAL' };
}

function stateEntry(id: string, pane: tmux.PaneState | undefined): RuntimeStateInit {
  if (!pane) return { id, state: 'missing' };
  return {
    id,
    state: pane.dead ? 'exited' : 'running',
    ...(pane.dead && pane.exitStatus !== undefined ? { hasExitCode: true, exitCode: pane.exitStatus } : {}),
    currentCommand: pane.currentCommand,
    activityUnixMs: BigInt(pane.activityAt ?? 0),
  };
}

export interface ListRuntimesAnswer {
  runtimes: RuntimeStateInit[];
  nowUnixMs: bigint;
  uptimeSecs: number;
}

export async function listRuntimesRpc(ctx: ServiceContext, handles: readonly ProtoRuntimeHandle[], activity: readonly ActivityRequest[] = []): Promise<ListRuntimesAnswer> {
  if (handles.length > MAX_HANDLES) {
    throw rpcError(Code.InvalidArgument, `at most ${MAX_HANDLES} handles per ListRuntimes call (got ${handles.length})`, 'INVALID_ARGUMENT');
  }
  // The clock before the files are read: a line written after it is placed at "now".
  const clock = localClock();
  const asks = new Map(activity.map((a) => [a.id, a]));
  const entries: RuntimeStateInit[] = new Array(handles.length);
  const byServer = new Map<string, { server: tmux.TmuxServer; items: Array<{ index: number; name: string }> }>();
  handles.forEach((handle, index) => {
    try {
      const t = targetOf(ctx, handle);
      const key = JSON.stringify(tmux.tmuxBase(t.server));
      let g = byServer.get(key);
      if (!g) byServer.set(key, (g = { server: t.server, items: [] }));
      g.items.push({ index, name: t.name });
    } catch (err) {
      entries[index] = errorEntry(handle.id, err);
    }
  });
  let read = 0;
  let bytes = 0;
  await Promise.all(
    [...byServer.values()].map(async (g) => {
      let panes: Map<string, tmux.PaneState>;
      try {
        panes = await tmux.paneStates(ctx.host, g.server);
      } catch (err) {
        for (const i of g.items) entries[i.index] = errorEntry(i.name, err);
        return;
      }
      await Promise.all(
        g.items.map(async (i) => {
          const pane = panes.get(i.name);
          const entry = stateEntry(i.name, pane);
          const ask = asks.get(i.name);
          if (ask) {
            entry.activity = await readRuntimeActivity(ctx.host, g.server, i.name, ask, pane, clock.nowMs);
            read += 1;
            bytes += entry.activity.lines?.length ?? 0;
          }
          entries[i.index] = entry;
        }),
      );
    }),
  );
  ctx.log.debug('ListRuntimes', { runtimes: handles.length, activity_read: read, activity_bytes: bytes });
  return { runtimes: entries, nowUnixMs: BigInt(clock.nowMs), uptimeSecs: clock.uptimeS ?? 0 };
}
