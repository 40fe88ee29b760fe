/**
 * SshHost: the Host interface over one ssh2 connection. Commands go through a pool of
 * long-lived shell channels (channel-pool.ts), so an operation costs a round trip plus
 * the command, not a new SSH session. Get instances from the registry (registry.ts) so
 * a process keeps one connection per target (endpoint + security settings, see registry.ts).
 */
import { posix } from 'node:path';
import type { Duplex } from 'node:stream';
import type { ClientChannel } from 'ssh2';
import { EnnioError } from '../../core/errors.js';
import { shellJoin, shellQuote } from '../../ops/shell-quote.js';
import { execChecked, StreamEnd, type ExecOptions, type ExecResult, type Host, type HostStream } from '../host.js';
import { ChannelPool, type PoolOptions } from './channel-pool.js';
import { ChannelRefusedError, SshConnection, type SshConnectionOptions } from './connection.js';
import type { ResolvedSshTarget } from './resolve.js';
import { trace, tracing } from '../../core/trace.js';

export interface SshHostOptions extends SshConnectionOptions, PoolOptions {}

/** Pooled-shell upload chunk: base64 of 64 KiB stays under Linux's 128 KiB single-argument limit. */
const UPLOAD_CHUNK = 64 * 1024;

/** Options of tmux and git that take a value: skipped to find the subcommand. */
const VALUE_OPTIONS: Record<string, ReadonlySet<string>> = {
  tmux: new Set(['-L', '-S', '-f', '-c', '-T']),
  git: new Set(['-C', '-c']),
};

/** What a person would call this command: "tmux capture-pane", "git worktree", "mkdir". */
export function describeArgv(argv: readonly string[]): string {
  const [program = '', ...rest] = argv;
  const base = program.slice(program.lastIndexOf('/') + 1);
  const takesValue = VALUE_OPTIONS[base];
  if (!takesValue) return `\`${[program, ...rest.slice(0, 1)].join(' ')}\``;
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i] as string;
    if (takesValue.has(word)) i++;
    else if (!word.startsWith('-')) return `\`${base} ${word}\``;
  }
  return `\`${base}\``;
}

export class SshHost implements Host {
  readonly label: string;
  readonly isRemote = true;
  readonly connection: SshConnection;
  private readonly pool: ChannelPool;
  private home: Promise<string> | undefined;
  private closed = false;
  /** Commands run on the host so far (what sweeps and benchmarks count: one per host per sweep). */
  commandCount = 0;

  constructor(
    readonly target: ResolvedSshTarget,
    options: SshHostOptions = {},
    private readonly onClose?: (host: SshHost) => void,
  ) {
    this.connection = new SshConnection(target, options);
    this.label = this.connection.label;
    this.pool = new ChannelPool(this.connection, options);
  }

  /** Connect now (verifying the host key and credentials) instead of on first use. */
  async connect(): Promise<void> {
    await this.connection.client();
  }

  /** Connect and open a first shell now, in the background; a failure is left for the first command to meet. */
  warm(): void {
    this.pool.warm().catch(() => undefined);
  }

  get connected(): boolean {
    return this.connection.connected;
  }

  /** Open pooled shell channels (diagnostics and tests). */
  get channelCount(): number {
    return this.pool.size;
  }

  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (argv.length === 0) return Promise.reject(new EnnioError('INVALID_ARGUMENT', 'exec: empty argv'));
    const what = describeArgv(argv);
    this.commandCount += 1;
    trace(`ssh: run ${what}`);
    const done = this.pool.run(
      {
        argv,
        ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
        ...(options.env ? { env: options.env } : {}),
        ...(options.input !== undefined ? { input: options.input } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      },
      what,
    );
    if (tracing) void done.then(() => trace(`ssh: done ${what}`), () => undefined);
    return done;
  }

  /** A command on an exec channel of its own (not the pooled shells: it runs for as long as it is wanted). */
  async openStream(argv: readonly string[]): Promise<HostStream> {
    if (argv.length === 0) throw new EnnioError('INVALID_ARGUMENT', 'openStream: empty argv');
    const channel = await this.connection.openSession(`exec ${shellJoin(argv)}`);
    let stderr = '';
    const end = new StreamEnd();
    const finish = (why: string): void => end.finish(why);
    channel.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-2000)));
    channel.on('error', (e: Error) => finish(`${describeArgv(argv)} on ${this.label}: ${e.message}`));
    channel.on('close', () => finish(stderr.trim() || `${describeArgv(argv)} on ${this.label} ended`));
    return {
      onData: (l) => void channel.on('data', l),
      onClose: (l) => end.listen(l),
      write: (data) => void channel.write(data),
      close: () => {
        channel.end();
        setTimeout(() => end.ended || channel.close(), 2000).unref();
      },
    };
  }

  homeDir(): Promise<string> {
    this.home ??= execChecked(this, ['sh', '-c', 'printf %s "$HOME"']).then(
      (r) => {
        if (!r.stdout.startsWith('/')) throw new EnnioError('COMMAND_FAILED', `HOME on ${this.label} is not an absolute path: ${JSON.stringify(r.stdout)}`);
        return r.stdout;
      },
      (err: unknown) => {
        this.home = undefined; // ask again next time (the connection may come back)
        throw err;
      },
    );
    return this.home;
  }

  /**
   * Write `data` to `remotePath` with `mode`, atomically (a temp file renamed over the
   * target, so a running binary can be replaced). Small files go through the pooled
   * shell; large ones stream raw bytes into `cat` on a channel of their own (the pooled
   * shell would need base64 chunks, ~1.5 MB/s), falling back to chunks when the server
   * refuses another session (MaxSessions).
   */
  async uploadFile(data: string | Buffer, remotePath: string, mode = 0o644): Promise<void> {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
    const tmp = `${remotePath}.ennio-upload-${process.pid}-${Date.now().toString(36)}`;
    try {
      await execChecked(this, ['sh', '-c', 'umask 077 && mkdir -p -- "$1" && : > "$2"', 'sh', posix.dirname(remotePath), tmp]);
      const streamed = bytes.length > UPLOAD_CHUNK && (await this.streamToFile(bytes, tmp));
      if (!streamed) {
        for (let off = 0; off < bytes.length; off += UPLOAD_CHUNK) {
          await execChecked(this, ['sh', '-c', 'cat >> "$1"', 'sh', tmp], { input: bytes.subarray(off, off + UPLOAD_CHUNK) });
        }
      }
      await execChecked(this, ['sh', '-c', 'chmod "$1" "$2" && mv -f -- "$2" "$3"', 'sh', mode.toString(8), tmp, remotePath]);
    } catch (err) {
      // Remove the partial temp file; the upload's own error is what the caller needs.
      await this.exec(['rm', '-f', '--', tmp]).catch(() => undefined);
      throw err;
    }
  }

  /** `cat > file` on its own exec channel; false when the server refused the channel. */
  private async streamToFile(bytes: Buffer, path: string): Promise<boolean> {
    let channel: ClientChannel;
    try {
      channel = await this.connection.openSession(`cat > ${shellQuote(path)}`);
    } catch (err) {
      if (err instanceof ChannelRefusedError) return false;
      throw err;
    }
    await new Promise<void>((resolve, reject) => {
      let stderr = '';
      let exit: number | undefined;
      channel.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      channel.on('exit', (c: number | null) => (exit = c ?? undefined));
      channel.on('error', (e: Error) => reject(new EnnioError('SSH_CHANNEL', `upload to ${path} on ${this.label} failed: ${e.message}`, { cause: e })));
      channel.on('close', () => {
        if (exit === 0) resolve();
        else reject(new EnnioError('COMMAND_FAILED', `writing ${path} on ${this.label} failed${exit === undefined ? ' (channel closed)' : ` (exit ${exit})`}: ${stderr.trim()}`));
      });
      channel.resume();
      channel.end(bytes);
    });
    return true;
  }

  /** A TCP stream from the remote host to host:port (e.g. the ennio-node gRPC port). */
  forwardOut(host: string, port: number): Promise<Duplex> {
    return this.connection.forwardOut(host, port);
  }

  /** A stream to a unix socket on the remote host. */
  forwardOutUnix(socketPath: string): Promise<Duplex> {
    return this.connection.forwardOutUnix(socketPath);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pool.close();
    await this.connection.close();
    this.onClose?.(this);
  }
}
