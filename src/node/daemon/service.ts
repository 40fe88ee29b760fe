/**
 * The EnnioNode service: each RPC delegates to a small function that does the work
 * through src/ops; this file only wires them and answers the lifecycle calls.
 */
import type { ServiceImpl } from '@connectrpc/connect';
import type { EnnioNode } from '../gen/ennio_node_pb.js';
import { isEnnioError } from '../../core/errors.js';
import { paneStates } from '../../ops/tmux.js';
import type { ServiceContext } from './context.js';
import { CONTROL_SESSION } from './tmux-control.js';
import { createRuntimeRpc, destroyRuntimeRpc, getOutputRpc, isAliveRpc, sendMessageRpc } from './runtime-service.js';
import { createWorkspaceRpc, destroyWorkspaceRpc } from './workspace-service.js';
import { listRuntimesRpc } from './list-runtimes.js';

export function ennioNodeService(ctx: ServiceContext): ServiceImpl<typeof EnnioNode> {
  return {
    createWorkspace: (req) => createWorkspaceRpc(ctx, req),
    destroyWorkspace: (req) => destroyWorkspaceRpc(ctx, req),
    createRuntime: (req) => createRuntimeRpc(ctx, req),
    destroyRuntime: (req) => destroyRuntimeRpc(ctx, req.handle),
    sendMessage: (req) => sendMessageRpc(ctx, req.handle, req.message),
    getOutput: (req) => getOutputRpc(ctx, req.handle, req.lines),
    isAlive: (req) => isAliveRpc(ctx, req.handle),
    listRuntimes: (req) => listRuntimesRpc(ctx, req.handles, req.activity),

    async heartbeat() {
      // Healthy means the daemon can do its job: tmux answers. A missing tmux is reported
      // (healthy=false + detail) rather than thrown, so `ennio node status` can show it.
      let runtimes = 0;
      let detail = '';
      try {
        const panes = await paneStates(ctx.host, ctx.tmux);
        runtimes = panes.size - (panes.has(CONTROL_SESSION) ? 1 : 0);
      } catch (err) {
        if (!isEnnioError(err)) throw err;
        detail = err.message;
      }
      return {
        healthy: detail === '',
        detail,
        uptimeSecs: BigInt(Math.floor((Date.now() - ctx.startedAt) / 1000)),
        version: ctx.version,
        buildId: ctx.buildId,
        runtimes,
        pid: process.pid,
        workspaceRoot: ctx.workspaceRoot,
        idleTimeoutSecs: ctx.idleTimeoutSecs,
        rssBytes: BigInt(process.memoryUsage.rss()),
      };
    },

    shutdown(req) {
      ctx.log.info('shutdown requested', { graceful: req.graceful });
      ctx.requestShutdown(req.graceful);
      return { accepted: true };
    },
  };
}
