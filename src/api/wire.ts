/**
 * How a CLI request crosses the orchestrator's socket. Light on purpose (the thin client
 * loads it): no zod, no SQLite.
 *
 * - `x-ennio-caller`: base64 JSON {cwd, env, config?} — the shell the command ran in;
 *   the orchestrator expands ${VAR}s and starts agents with this environment.
 * - `x-ennio-build`: the client's build id; a different orchestrator build answers 426
 *   and the client replaces it.
 * - `accept: application/x-ndjson`: the answer is a stream of lines, zero or more
 *   {"progress": text} (what a slow request waits for), then {"result": …} or {"error": …}.
 *   Other clients get plain JSON with an HTTP status.
 * - `x-ennio-print: json` (CLI only, on routes that have it): the orchestrator renders what
 *   `--json` prints of the result; the outcome line is {"result": null, "printed": N} and
 *   N raw bytes follow it. For 1,000 sessions this spares the cold CLI process parsing and
 *   re-printing 0.5 MB of JSON (~30 ms).
 */
import type { WireError } from './contract.js';

/** What `--json` prints: indented JSON and a newline (the CLI, and the orchestrator rendering it for the CLI). */
export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export const CALLER_HEADER = 'x-ennio-caller';
export const BUILD_HEADER = 'x-ennio-build';
export const REQUEST_ID_HEADER = 'x-ennio-request-id';
export const NDJSON = 'application/x-ndjson';
export const PRINT_HEADER = 'x-ennio-print';

export interface WireCaller {
  cwd: string;
  env: Record<string, string | undefined>;
  config?: string;
}

export function encodeCaller(caller: WireCaller): string {
  return Buffer.from(JSON.stringify(caller), 'utf8').toString('base64');
}

export function decodeCaller(header: string): WireCaller {
  const value = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as Partial<WireCaller>;
  if (typeof value.cwd !== 'string' || typeof value.env !== 'object' || value.env === null) throw new Error('malformed caller header');
  return { cwd: value.cwd, env: value.env, ...(typeof value.config === 'string' ? { config: value.config } : {}) };
}

/** HTTP status for an error code (plain-JSON clients; the CLI reads the code itself). */
export function httpStatusFor(code: string): number {
  switch (code) {
    case 'UNKNOWN_SESSION':
    case 'UNKNOWN_PROJECT':
    case 'CONFIG_NOT_FOUND':
    case 'NOT_FOUND':
      return 404;
    case 'INVALID_ARGUMENT':
    case 'CONFIG_INVALID':
    case 'ENV_MISSING':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'FORBIDDEN':
      return 403;
    case 'SESSION_STATE':
    case 'MAX_SESSIONS':
    case 'BRANCH_EXISTS':
    case 'CONFIG_EXISTS':
      return 409;
    case 'SSH_CONNECT':
    case 'SSH_AUTH':
    case 'HOST_KEY_UNKNOWN':
    case 'HOST_KEY_CHANGED':
    case 'SSH_CHANNEL':
    case 'NODE_UNAVAILABLE':
    case 'NODE_RPC':
      return 502;
    case 'INTERRUPTED':
      return 499;
    case 'TIMEOUT':
      return 408;
    default:
      return 500;
  }
}

export type WireLine = { progress: string } | { result: unknown; printed?: number } | { error: WireError } | { text: string } | { notice: string };
