/**
 * CreateRuntime / DestroyRuntime / SendMessage / GetOutput / IsAlive: src/ops/tmux.ts
 * run through the daemon's LocalHost. All state lives in tmux, none in the daemon, so a
 * restarted daemon answers for sessions started by its predecessor.
 *
 * handle.id is the tmux session name; handle.data.tmux_socket names the tmux server
 * (absent = the user's default server), so a handle stays valid if the daemon is later
 * started with another --tmux-socket.
 */
import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { Code } from '@connectrpc/connect';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  CreateRuntimeRequest,
  CreateRuntimeResponseSchema,
  IsAliveResponseSchema,
  ProtoRuntimeHandle,
} from '../gen/ennio_node_pb.js';
import { isEnnioError } from '../../core/errors.js';
import { expandHome } from '../../ops/fs.js';
import * as tmux from '../../ops/tmux.js';
import type { ServiceContext } from './context.js';
import { rpcError } from './errors.js';
import { assertSafeId, resolveConfinedPath } from './paths.js';
import { isRepositoryRoot } from '../../ops/git-workspace.js';
import { CONTROL_SESSION } from './tmux-control.js';

export const RUNTIME_NAME = 'tmux';
const SOCKET_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** The panes keep 50 000 lines of history (src/ops/tmux.ts); more cannot exist. */
const MAX_LINES = 50_000;
const DEFAULT_LINES = 100;

const invalid = (message: string): Error => rpcError(Code.InvalidArgument, message, 'INVALID_ARGUMENT');

interface Target {
  name: string;
  server: tmux.TmuxServer;
}

/** A valid tmux session name that is not the daemon's own control session. */
function assertRuntimeName(name: string): void {
  tmux.assertSessionName(name);
  if (name === CONTROL_SESSION) throw invalid(`${CONTROL_SESSION} is the daemon's own tmux session, not a runtime`);
}

export function targetOf(ctx: ServiceContext, handle: ProtoRuntimeHandle | undefined): Target {
  if (handle === undefined) throw invalid('handle is required');
  if (handle.runtimeName !== '' && handle.runtimeName !== RUNTIME_NAME) {
    throw invalid(`runtime ${JSON.stringify(handle.runtimeName)} is not served by ennio-node (only "${RUNTIME_NAME}")`);
  }
  assertRuntimeName(handle.id);
  const socket = handle.data['tmux_socket'];
  if (socket === undefined) return { name: handle.id, server: ctx.tmux };
  if (!SOCKET_NAME.test(socket)) throw invalid(`invalid tmux_socket ${JSON.stringify(socket)} in handle data`);
  return { name: handle.id, server: { socket } };
}

/**
 * Turn a failed tmux command into the reason a client can act on: the session does
 * not exist (NOT_FOUND) or its agent has exited (FAILED_PRECONDITION). Asked of tmux
 * only after a failure, so the fast path stays one tmux command.
 */
async function explainFailure(ctx: ServiceContext, t: Target, err: unknown): Promise<never> {
  const state = await tmux.liveness(ctx.host, t.server, t.name);
  if (state === 'missing') {
    throw rpcError(Code.NotFound, `tmux session ${t.name} does not exist on this host`, 'UNKNOWN_SESSION');
  }
  if (state === 'exited') {
    throw rpcError(Code.FailedPrecondition, `the agent in tmux session ${t.name} has exited`, 'SESSION_STATE');
  }
  throw err;
}

async function directory(ctx: ServiceContext, raw: string): Promise<string> {
  if (raw === '') throw invalid('cwd is required');
  if (/[\x00-\x1f\x7f]/.test(raw)) throw invalid('cwd contains control characters');
  const expanded = await expandHome(ctx.host, raw);
  if (!posix.isAbsolute(expanded)) throw invalid(`cwd ${JSON.stringify(raw)} must be absolute (or start with ~/)`);
  const cwd = await resolveConfinedPath(ctx.workspaceRoot, 'cwd', expanded, (real) => isRepositoryRoot(ctx.host, real));
  let isDir: boolean;
  try {
    isDir = (await stat(cwd)).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw rpcError(Code.FailedPrecondition, `cwd ${cwd} is not usable: ${code ?? String(err)}`, 'INVALID_ARGUMENT');
  }
  if (!isDir) throw rpcError(Code.FailedPrecondition, `cwd ${cwd} is not a directory`, 'INVALID_ARGUMENT');
  return cwd;
}

export async function createRuntimeRpc(
  ctx: ServiceContext,
  req: CreateRuntimeRequest,
): Promise<MessageInitShape<typeof CreateRuntimeResponseSchema>> {
  assertSafeId('session_id', req.sessionId);
  if (req.launchCommand.trim() === '') throw invalid('launch_command is required');
  const name = req.sessionName === '' ? `ennio-${req.sessionId}` : req.sessionName;
  assertRuntimeName(name);
  const cwd = await directory(ctx, req.cwd);
  ctx.log.info('creating runtime', { session: req.sessionId, name, cwd, env_keys: Object.keys(req.env).join(',') });
  // The launch command is a shell command line by protocol; `sh -c` runs it as one.
  // No look before: tmux itself refuses a duplicate name atomically, and asking only
  // after a failure keeps two concurrent calls for one name from both passing a check
  // and the loser getting a bare COMMAND_FAILED.
  try {
    await tmux.createSession(ctx.host, ctx.tmux, { name, cwd, env: { ...req.env }, command: ['sh', '-c', req.launchCommand] });
  } catch (err) {
    if (isEnnioError(err, 'COMMAND_FAILED') && (await tmux.liveness(ctx.host, ctx.tmux, name)) !== 'missing') {
      throw rpcError(Code.AlreadyExists, `tmux session ${name} already exists on this host`, 'SESSION_STATE');
    }
    throw err;
  }
  const data: Record<string, string> = { session_id: req.sessionId, cwd };
  if (ctx.tmux.socket !== undefined) data['tmux_socket'] = ctx.tmux.socket;
  return { handle: { id: name, runtimeName: RUNTIME_NAME, data } };
}

export async function destroyRuntimeRpc(ctx: ServiceContext, handle: ProtoRuntimeHandle | undefined): Promise<object> {
  const t = targetOf(ctx, handle);
  ctx.log.info('destroying runtime', { name: t.name });
  await tmux.killSession(ctx.host, t.server, t.name); // a session already gone is fine
  return {};
}

export async function sendMessageRpc(ctx: ServiceContext, handle: ProtoRuntimeHandle | undefined, message: string): Promise<object> {
  const t = targetOf(ctx, handle);
  try {
    await tmux.sendMessage(ctx.host, t.server, t.name, message);
  } catch (err) {
    return explainFailure(ctx, t, err);
  }
  return {};
}

export async function getOutputRpc(ctx: ServiceContext, handle: ProtoRuntimeHandle | undefined, lines: number): Promise<{ output: string }> {
  const t = targetOf(ctx, handle);
  const n = lines === 0 ? DEFAULT_LINES : Math.min(lines, MAX_LINES);
  try {
    return { output: await tmux.capture(ctx.host, t.server, t.name, n) };
  } catch (err) {
    return explainFailure(ctx, t, err);
  }
}

export async function isAliveRpc(
  ctx: ServiceContext,
  handle: ProtoRuntimeHandle | undefined,
): Promise<MessageInitShape<typeof IsAliveResponseSchema>> {
  const t = targetOf(ctx, handle);
  const state = await tmux.liveness(ctx.host, t.server, t.name);
  return { alive: state === 'running', state };
}
