/** The one place where error codes become exit statuses and user-facing text. */
import pc from 'picocolors';
import { EnnioError, type ErrorCode } from '../core/errors.js';

const EXIT: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 2,
  CONFIG_INVALID: 2,
  CONFIG_NOT_FOUND: 2,
  CONFIG_EXISTS: 2,
  ENV_MISSING: 2,
  UNKNOWN_PROJECT: 3,
  UNKNOWN_SESSION: 3,
  TOOL_MISSING: 4,
  AGENT_NOT_FOUND: 4,
  SSH_CONNECT: 5,
  SSH_AUTH: 5,
  HOST_KEY_UNKNOWN: 5,
  HOST_KEY_CHANGED: 5,
  SSH_CHANNEL: 5,
  NODE_UNAVAILABLE: 5,
  SERVER_UNAVAILABLE: 6,
  SERVER_BUILD: 6,
  // As timeout(1) does: scripts tell "gave up waiting" from failures.
  TIMEOUT: 124,
};

export function exitCodeFor(err: unknown): number {
  // An interrupted command exits 128 + signal, as shells expect (set by src/services/interrupt.ts).
  if (err instanceof EnnioError && err.code === 'INTERRUPTED') {
    const code = Number(process.exitCode ?? 0);
    return code > 128 ? code : 130;
  }
  return err instanceof EnnioError ? (EXIT[err.code] ?? 1) : 1;
}

export function formatError(err: unknown, json: boolean): string {
  if (json) {
    const e = err instanceof EnnioError ? err : undefined;
    return JSON.stringify({
      error: { code: e?.code ?? 'INTERNAL', message: err instanceof Error ? err.message : String(err), ...(e?.hint ? { hint: e.hint } : {}) },
    });
  }
  if (err instanceof EnnioError) {
    return `${pc.red('error:')} ${err.message}${err.hint ? `\n${pc.dim('hint:')} ${err.hint}` : ''}`;
  }
  const detail = err instanceof Error ? (process.env['ENNIO_DEBUG'] ? err.stack : err.message) : String(err);
  return `${pc.red('internal error:')} ${detail}\n${pc.dim('hint:')} set ENNIO_DEBUG=1 for a stack trace and report it`;
}
