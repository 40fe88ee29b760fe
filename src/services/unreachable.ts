/**
 * Why a host could not be asked about a session, in a few words for `status`. A changed
 * host key or a refused login is not a network blip: it will not pass by itself, and the
 * user has to act, so it must not look like one.
 */
import { isEnnioError, type ErrorCode } from '../core/errors.js';

const REASONS: Partial<Record<ErrorCode, string>> = {
  HOST_KEY_CHANGED: 'host key changed',
  HOST_KEY_UNKNOWN: 'host key unknown',
  SSH_AUTH: 'authentication refused',
  SSH_CONNECT: 'no connection',
  SSH_CHANNEL: 'channel refused',
  NODE_UNAVAILABLE: 'ennio-node unavailable',
  CONFIG_INVALID: 'bad ssh config',
};

export interface Unreachable {
  /** The full error message. */
  unreachable: string;
  /** A few words ("host key changed"), shown as `running (unreachable: host key changed)`. */
  unreachable_reason: string;
  /** The error's stable code, for programs. */
  unreachable_code: ErrorCode;
}

export function unreachableFrom(err: unknown): Unreachable {
  const code: ErrorCode = isEnnioError(err) ? err.code : 'INTERNAL';
  return {
    unreachable: err instanceof Error ? err.message : String(err),
    unreachable_reason: REASONS[code] ?? 'error',
    unreachable_code: code,
  };
}
