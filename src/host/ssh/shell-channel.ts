/**
 * One long-lived `sh` on an ssh2 exec channel, running one framed command at a time
 * (format: shell-frame.ts). Opening a channel costs sshd a session setup (~150 ms); a
 * frame on an open one costs about as much as the command itself.
 */
import type { ClientChannel } from 'ssh2';
import { EnnioError } from '../../core/errors.js';
import type { ExecResult } from '../host.js';
import { trace } from '../../core/trace.js';
import type { SshConnection } from './connection.js';
import { buildFrame, buildRawFrame, FrameParser, newNonce, type FrameSpec } from './shell-frame.js';

/**
 * Run once per channel, in the long-lived shell itself:
 * - sessions started by sshd without PAM or AcceptEnv often have no locale at all; tmux
 *   then treats its client as non-UTF-8 and rewrites tabs and non-ASCII in its output to
 *   `_` (breaking list-panes parsing and captured text). OpenSSH's client would normally
 *   send LANG (SendEnv); we set only LC_CTYPE, and only when nothing is set;
 * - probe for `timeout`, used to kill commands that exceed their timeoutMs remotely.
 */
const START_UP = '[ -n "${LC_ALL}${LC_CTYPE}${LANG}" ] || { LC_CTYPE=C.UTF-8; export LC_CTYPE; }; command -v timeout >/dev/null 2>&1';

interface Running {
  parser: FrameParser;
  resolve: (r: ExecResult) => void;
  reject: (e: Error) => void;
  what: string;
}

export class ShellChannel {
  private running: Running | undefined;
  private closed = false;
  private readonly closeListeners: Array<() => void> = [];
  /** Whether the remote has `timeout` (coreutils/busybox), probed when the channel opens. */
  hasTimeout = false;

  private constructor(
    private readonly channel: ClientChannel,
    private readonly conn: SshConnection,
  ) {
    channel.on('data', (d: Buffer) => this.feed('out', d));
    channel.stderr.on('data', (d: Buffer) => this.feed('err', d));
    // A stream error is followed by 'close'; the close handler reports it.
    channel.on('error', () => undefined);
    channel.on('close', () => this.onClosed());
  }

  static async open(conn: SshConnection, startTimeoutMs: number): Promise<ShellChannel> {
    trace('ssh: opening a shell channel');
    const channel = await conn.openSession('sh');
    trace('ssh: shell channel open');
    const shell = new ShellChannel(channel, conn);
    // The probe also swallows anything the login shell's rc files print before `sh` starts.
    const nonce = newNonce();
    const probe = await shell.runFrame(buildRawFrame(START_UP, nonce), nonce, 'start-up probe', startTimeoutMs);
    if (shell.closed) {
      throw new EnnioError('SSH_CHANNEL', `the remote shell on ${conn.label} did not answer within ${startTimeoutMs} ms`);
    }
    shell.hasTimeout = probe.code === 0;
    trace('ssh: shell channel started');
    return shell;
  }

  get dead(): boolean {
    return this.closed;
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.closeListeners.push(listener);
  }

  /** Run one command; resolves with its status (124 on timeout), rejects if the channel dies. */
  async exec(spec: Omit<FrameSpec, 'timeoutSeconds'> & { timeoutMs?: number }, what: string): Promise<ExecResult> {
    const useWrapper = spec.timeoutMs !== undefined && this.hasTimeout;
    const frameSpec: FrameSpec = { ...spec, ...(useWrapper ? { timeoutSeconds: (spec.timeoutMs ?? 0) / 1000 } : {}) };
    const nonce = newNonce();
    // With `timeout` on the remote the command is killed there and the channel stays
    // usable; our own timer is then only a backstop that replaces a wedged channel.
    // Without it, our timer fires on time and the channel is replaced (see destroy()).
    const backstop = spec.timeoutMs === undefined ? undefined : spec.timeoutMs + (useWrapper ? 2000 : 0);
    const started = Date.now();
    const res = await this.runFrame(buildFrame(frameSpec, nonce), nonce, what, backstop);
    // `timeout -s KILL` reports 137 (128 + SIGKILL); the Host contract says 124.
    if (useWrapper && res.code === 137 && Date.now() - started >= (spec.timeoutMs ?? 0)) return { ...res, code: 124 };
    return res;
  }

  private runFrame(frame: string, nonce: string, what: string, timeoutMs: number | undefined): Promise<ExecResult> {
    if (this.closed) return Promise.reject(new EnnioError('SSH_CHANNEL', `shell channel to ${this.conn.label} is closed`));
    if (this.running) return Promise.reject(new EnnioError('INTERNAL', 'shell channel is busy'));
    return new Promise<ExecResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        if (timer) clearTimeout(timer);
        this.running = undefined;
      };
      this.running = {
        parser: new FrameParser(nonce),
        what,
        resolve: (r) => {
          finish();
          resolve(r);
        },
        reject: (e) => {
          finish();
          reject(e);
        },
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const running = this.running;
          if (!running) return;
          const partial = running.parser.partial();
          running.resolve({ code: 124, stdout: partial.stdout.toString('utf8'), stderr: partial.stderr.toString('utf8') });
          // The shell is still busy with the command: this channel is finished; the pool opens another.
          this.destroy();
        }, timeoutMs);
      }
      // A false return only means ssh2 buffered it (window full); the bytes still go out in order.
      this.channel.write(frame);
    });
  }

  private feed(stream: 'out' | 'err', chunk: Buffer): void {
    const running = this.running;
    this.conn.heard();
    if (!running) return; // output after a frame ended (a background process): nobody asked for it
    running.parser.push(stream, chunk);
    const result = running.parser.result();
    if (result) running.resolve({ code: result.code, stdout: result.stdout.toString('utf8'), stderr: result.stderr.toString('utf8') });
  }

  private onClosed(lostBecause?: EnnioError): void {
    if (this.closed) return;
    this.closed = true;
    const running = this.running;
    if (running && lostBecause) {
      running.reject(
        new EnnioError('SSH_CONNECT', `${lostBecause.message} (while running ${running.what})`, {
          cause: lostBecause,
          hint: `${running.what} may or may not have run; the next operation reconnects`,
        }),
      );
    } else if (running) {
      // Let the connection notice a drop first, so the error names the real cause.
      setImmediate(() => {
        const lost = !this.conn.connected;
        running.reject(
          new EnnioError(
            lost ? 'SSH_CONNECT' : 'SSH_CHANNEL',
            lost
              ? `connection to ${this.conn.label} was lost while running ${running.what}`
              : `the remote shell on ${this.conn.label} exited while running ${running.what}`,
            { hint: 'the command may or may not have run; the next operation reconnects' },
          ),
        );
      });
    }
    for (const l of this.closeListeners.splice(0)) l();
  }

  /** Close the channel (the remote sh sees EOF and exits); `lostBecause`: the connection was dropped. */
  destroy(lostBecause?: EnnioError): void {
    if (this.closed) return;
    if (this.conn.connected) {
      try {
        this.channel.signal('KILL');
      } catch {
        // not supported by every server; closing the channel is what matters
      }
      this.channel.close();
    }
    this.onClosed(lostBecause);
  }
}
