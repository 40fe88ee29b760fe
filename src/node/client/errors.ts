/**
 * gRPC failures → EnnioError, in one place. The daemon sends the stable Ennio code as
 * the `ennio-error-code` trailer, so a BRANCH_EXISTS or INVALID_ARGUMENT raised on the
 * remote host is the same error the session manager gets from a local run. Errors without
 * it (other servers, transport failures) map by gRPC status: UNAVAILABLE, ABORTED,
 * CANCELLED, DEADLINE_EXCEEDED (and a failed tunnel) → NODE_UNAVAILABLE, else NODE_RPC.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { EnnioError, type ErrorCode } from '../../core/errors.js';

const KNOWN = new Set<string>([
  'INVALID_ARGUMENT', 'BRANCH_EXISTS', 'TOOL_MISSING', 'COMMAND_FAILED', 'SESSION_STATE',
  'UNKNOWN_SESSION', 'NOT_SUPPORTED', 'INTERNAL',
]);

/** The daemon could not be reached or went away mid-call (ECONNRESET arrives as ABORTED). */
export function isUnavailable(err: unknown): boolean {
  return err instanceof ConnectError && (err.code === Code.Unavailable || err.code === Code.Canceled || err.code === Code.Aborted);
}

export function fromRpcError(err: unknown, what: string, label: string): EnnioError {
  if (err instanceof EnnioError) return err;
  if (!(err instanceof ConnectError)) {
    return new EnnioError('NODE_RPC', `${what} on ${label} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const trailer = err.metadata.get('ennio-error-code');
  const rawHint = err.metadata.get('ennio-error-hint');
  const hint = rawHint === null ? undefined : safeDecode(rawHint);
  const code: ErrorCode | undefined = trailer !== null && KNOWN.has(trailer) ? (trailer as ErrorCode) : undefined;
  const message = `${what} on ${label}: ${err.rawMessage}`;
  if (code !== undefined) return new EnnioError(code, message, { cause: err, ...(hint === undefined ? {} : { hint }) });
  if (err.code === Code.Unauthenticated) {
    return new EnnioError('NODE_RPC', `${what} on ${label} was refused: ${err.rawMessage}`, {
      cause: err,
      hint: 'the daemon runs with another auth token; set node_config.auth_token to it, or stop that daemon',
    });
  }
  if (isUnavailable(err) || err.code === Code.DeadlineExceeded) {
    return new EnnioError('NODE_UNAVAILABLE', `ennio-node on ${label} is unreachable (${what}): ${err.rawMessage}`, { cause: err });
  }
  return new EnnioError('NODE_RPC', `${message} (${Code[err.code]})`, { cause: err });
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
