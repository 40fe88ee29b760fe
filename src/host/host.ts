import { EnnioError } from '../core/errors.js';

/**
 * Where an operation runs. Every tmux/git/file operation is built as an argv array
 * (src/ops/*) and handed to a Host: LocalHost (this machine), SshHost (over one ssh2
 * connection) or the daemon's own LocalHost on the remote machine.
 */
export interface ExecOptions {
  /** Working directory on the host. */
  cwd?: string;
  /** Extra environment variables for this command only. */
  env?: Record<string, string>;
  /** Bytes written to the command's stdin (then stdin is closed). */
  input?: string | Buffer;
  /** Kill the command after this many milliseconds (result code 124). */
  timeoutMs?: number;
}

export interface ExecResult {
  /** Exit status; 127 when the program was not found; 124 on timeout. */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * A long-running command with its stdin and stdout open (a tmux control-mode client):
 * bytes in, bytes out, for as long as both sides want.
 */
export interface HostStream {
  onData(listener: (chunk: Buffer) => void): void;
  /** Once: the command ended or the transport dropped, with why (stderr or the error). */
  onClose(listener: (why: string) => void): void;
  write(data: string): void;
  /** End its stdin (a well-behaved command exits) and stop it if it does not. */
  close(): void;
}

/** The once-only end of a HostStream: listeners added after it ended are told at once. */
export class StreamEnd {
  private why: string | undefined;
  private readonly listeners: Array<(why: string) => void> = [];

  get ended(): boolean {
    return this.why !== undefined;
  }

  finish(why: string): void {
    if (this.why !== undefined) return;
    this.why = why;
    for (const l of this.listeners.splice(0)) l(why);
  }

  listen(listener: (why: string) => void): void {
    if (this.why === undefined) this.listeners.push(listener);
    else listener(this.why);
  }
}

export interface Host {
  /** 'local' or a label like 'deploy@build:22' used in messages. */
  readonly label: string;
  readonly isRemote: boolean;
  /**
   * Run argv (no shell on our side; SshHost quotes every word for the remote shell).
   * Resolves with the exit status; rejects only when the transport fails
   * (connection lost, channel refused), never because the command exited non-zero.
   */
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Start argv with pipes kept open (LocalHost: a child process; SshHost: an exec channel of its own). */
  openStream?(argv: readonly string[]): Promise<HostStream>;
  /** The home directory of the user on that host (cached). */
  homeDir(): Promise<string>;
  close(): Promise<void>;
}

/** Throws COMMAND_FAILED with the command's stderr when it exited non-zero. */
export async function execChecked(
  host: Host,
  argv: readonly string[],
  options?: ExecOptions,
): Promise<ExecResult> {
  const res = await host.exec(argv, options);
  if (res.code !== 0) {
    const what = argv.slice(0, 3).join(' ');
    const detail = (res.stderr || res.stdout).trim();
    throw new EnnioError(
      res.code === 127 ? 'TOOL_MISSING' : 'COMMAND_FAILED',
      `${what} failed on ${host.label} (exit ${res.code})${detail ? `: ${detail}` : ''}`,
    );
  }
  return res;
}
