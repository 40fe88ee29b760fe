/**
 * EnnioError codes (from src/ops) → gRPC status codes, in one place. The stable Ennio
 * code and hint also travel as response trailers (`ennio-error-code`, `ennio-error-hint`)
 * so the orchestrator can rebuild the same EnnioError (e.g. BRANCH_EXISTS) that a local
 * run would have raised; other gRPC clients just see a fitting status and message.
 *
 * INTERNAL is kept for what really is a daemon bug. A command that ran and failed (a
 * clone from a bad URL, `git worktree add` refusing) is FAILED_PRECONDITION: the request
 * was fine, the host's state did not allow it, and the message carries the command's
 * stderr. Cases that deserve a more precise status (a missing repository → NOT_FOUND, a
 * duplicate tmux session → ALREADY_EXISTS) are raised as such by the RPC code itself.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { isEnnioError, type ErrorCode } from '../../core/errors.js';

export const ERROR_CODE_TRAILER = 'ennio-error-code';
export const ERROR_HINT_TRAILER = 'ennio-error-hint';

const GRPC_CODE: Partial<Record<ErrorCode, Code>> = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  BRANCH_EXISTS: Code.AlreadyExists,
  TOOL_MISSING: Code.FailedPrecondition,
  SESSION_STATE: Code.FailedPrecondition,
  UNKNOWN_SESSION: Code.NotFound,
  NOT_SUPPORTED: Code.Unimplemented,
  COMMAND_FAILED: Code.FailedPrecondition,
  INTERNAL: Code.Internal,
};

/** A ConnectError carrying the Ennio code, for errors the service raises itself. */
export function rpcError(code: Code, message: string, ennioCode?: ErrorCode, hint?: string): ConnectError {
  const trailers = new Headers();
  if (ennioCode !== undefined) trailers.set(ERROR_CODE_TRAILER, ennioCode);
  // Header values must be ASCII; a hint may not be.
  if (hint !== undefined) trailers.set(ERROR_HINT_TRAILER, encodeURIComponent(hint));
  return new ConnectError(message, code, trailers);
}

export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (isEnnioError(err)) return rpcError(GRPC_CODE[err.code] ?? Code.Internal, err.message, err.code, err.hint);
  const message = err instanceof Error ? err.message : String(err);
  return rpcError(Code.Internal, `internal error: ${message}`, 'INTERNAL');
}
