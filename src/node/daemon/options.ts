/**
 * Command-line options of ennio-node. Parsing is pure (argv in, options or a UsageError
 * out) so it is tested without starting anything; reading the token (file, stdin, env)
 * is separate because it does I/O.
 */
import { parseArgs } from 'node:util';

export interface DaemonOptions {
  /** TCP port on 127.0.0.1; 0 picks a free port (logged in the "listening" line). */
  port: number;
  /** Seconds without gRPC activity before the daemon exits; 0 disables it. */
  idleTimeoutSecs: number;
  workspaceRoot?: string;
  /** Token given in argv (visible in `ps`; prefer authTokenFile or the env variable). */
  authToken?: string;
  /** File holding the token (must not be readable by group/others); '-' reads stdin. */
  authTokenFile?: string;
  /** tmux -L socket name; undefined = the user's default tmux server. */
  tmuxSocket?: string;
  /** Append JSON log lines here instead of stderr. */
  logFile?: string;
  /** Run hot tmux commands through a tmux control-mode client (default on). */
  tmuxControl: boolean;
  help: boolean;
  version: boolean;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `Usage: ennio-node [OPTIONS]

The ennio-node daemon: serves the EnnioNode gRPC service (HTTP/2, plain text) on
127.0.0.1 only, to be reached through an SSH tunnel.

Options:
  --port N               gRPC listen port (default 9100; 0 = any free port)
  --idle-timeout SECS    exit after SECS without gRPC activity (default 3600; 0 = never)
  --workspace-root DIR   root directory for workspaces (default ~/.ennio/workspaces)
  --auth-token TOKEN     require "authorization: Bearer TOKEN" (shows in ps until
                         startup hides it; prefer the env variable or a file:)
  --auth-token-file PATH read the token from PATH (mode 0600), or from stdin with "-"
                         Env ENNIO_NODE_AUTH_TOKEN sets the token too; either flag
                         wins over it.
  --tmux-socket NAME     use tmux -L NAME (default: the user's default tmux server)
  --log-file PATH        append JSON log lines to PATH (default: stderr); env
                         ENNIO_NODE_DEBUG=1 also logs the frequent calls (sweeps)
  --no-tmux-control      spawn tmux for every command instead of using a control-mode
                         client (slower; the control client adds a session named
                         ennio-node-control to the tmux server)
  --version              print the version and exit
  --help                 print this help and exit
`;

const SOCKET_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function integer(flag: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`${flag} expects a whole number, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`${flag} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function parseOptions(argv: readonly string[]): DaemonOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        'idle-timeout': { type: 'string' },
        'workspace-root': { type: 'string' },
        'auth-token': { type: 'string' },
        'auth-token-file': { type: 'string' },
        'tmux-socket': { type: 'string' },
        'log-file': { type: 'string' },
        'no-tmux-control': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'V' },
      },
    });
  } catch (err) {
    // parseArgs messages name the offending flag ("Unknown option '--prot'").
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  const opts: DaemonOptions = {
    port: v.port === undefined ? 9100 : integer('--port', v.port, 0, 65535),
    idleTimeoutSecs: v['idle-timeout'] === undefined ? 3600 : integer('--idle-timeout', v['idle-timeout'], 0, 31_536_000),
    help: v.help === true,
    version: v.version === true,
    tmuxControl: v['no-tmux-control'] !== true,
  };
  if (v['workspace-root'] !== undefined) {
    if (v['workspace-root'] === '') throw new UsageError('--workspace-root must not be empty');
    opts.workspaceRoot = v['workspace-root'];
  }
  if (v['auth-token'] !== undefined && v['auth-token-file'] !== undefined) {
    throw new UsageError('give either --auth-token or --auth-token-file, not both');
  }
  if (v['auth-token'] !== undefined) {
    if (v['auth-token'].trim() === '') throw new UsageError('--auth-token must not be empty');
    opts.authToken = v['auth-token'];
  }
  if (v['auth-token-file'] !== undefined) opts.authTokenFile = v['auth-token-file'];
  if (v['tmux-socket'] !== undefined) {
    if (!SOCKET_NAME.test(v['tmux-socket'])) {
      throw new UsageError(`--tmux-socket expects 1-64 letters, digits, '.', '-' or '_', got ${JSON.stringify(v['tmux-socket'])}`);
    }
    opts.tmuxSocket = v['tmux-socket'];
  }
  if (v['log-file'] !== undefined) opts.logFile = v['log-file'];
  return opts;
}
