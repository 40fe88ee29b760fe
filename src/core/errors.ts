/**
 * Typed errors with stable codes. The CLI maps codes to exit statuses in one place
 * (src/cli/exit.ts); nothing classifies an error by its message text.
 */
export type ErrorCode =
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_INVALID'
  | 'CONFIG_EXISTS'
  | 'ENV_MISSING'
  | 'UNKNOWN_PROJECT'
  | 'UNKNOWN_SESSION'
  | 'INVALID_ARGUMENT'
  | 'MAX_SESSIONS'
  | 'BRANCH_EXISTS'
  | 'POST_CREATE_FAILED'
  | 'AGENT_NOT_FOUND'
  | 'TOOL_MISSING'
  | 'COMMAND_FAILED'
  | 'SESSION_STATE'
  | 'SSH_CONNECT'
  | 'SSH_AUTH'
  | 'HOST_KEY_UNKNOWN'
  | 'HOST_KEY_CHANGED'
  | 'SSH_CHANNEL'
  | 'NODE_UNAVAILABLE'
  | 'NODE_RPC'
  | 'NOT_SUPPORTED'
  | 'INTERRUPTED'
  | 'TIMEOUT'
  | 'SERVER_UNAVAILABLE'
  | 'SERVER_BUILD'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'INTERNAL';

export class EnnioError extends Error {
  readonly code: ErrorCode;
  /** Extra lines that help the user fix the problem (shown under the message). */
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EnnioError';
    this.code = code;
    if (options?.hint !== undefined) this.hint = options.hint;
  }
}

export function isEnnioError(err: unknown, code?: ErrorCode): err is EnnioError {
  return err instanceof EnnioError && (code === undefined || err.code === code);
}
