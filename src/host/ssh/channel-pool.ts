/**
 * A small pool of long-lived shell channels on one connection. Operations queue for a
 * free channel; up to `max` are opened on demand. The server may refuse new sessions
 * (OpenSSH MaxSessions, default 10, counts every session of the connection): then the
 * pool shrinks to the channels it has and queues, and with none at all it retries with
 * backoff. Channels that die (timeout, dropped connection) are replaced on demand.
 */
import { EnnioError } from '../../core/errors.js';
import type { ExecResult } from '../host.js';
import { ChannelRefusedError, type SshConnection } from './connection.js';
import type { FrameSpec } from './shell-frame.js';
import { ShellChannel } from './shell-channel.js';

export interface PoolOptions {
  /** Channels kept open at most (default 4). */
  max?: number;
  /** How long to keep retrying when the server refuses every channel (default: connection_timeout). */
  refusalBudgetMs?: number;
}

interface Waiter {
  resolve: (c: ShellChannel) => void;
  reject: (e: Error) => void;
}

/** After a refusal, try opening more than we have again after this long. */
const LIMIT_RESET_MS = 10_000;

export class ChannelPool {
  private readonly max: number;
  private readonly refusalBudgetMs: number;
  private limit: number;
  private limitResetAt = 0;
  private readonly live = new Set<ShellChannel>();
  private idle: ShellChannel[] = [];
  private readonly waiters: Waiter[] = [];
  private opening = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private refusedSince: number | undefined;
  private refusals = 0;
  private closed = false;
  private readonly offDrop: () => void;

  constructor(
    private readonly conn: SshConnection,
    options: PoolOptions = {},
  ) {
    this.max = Math.max(1, options.max ?? 4);
    this.limit = this.max;
    this.refusalBudgetMs = options.refusalBudgetMs ?? conn.target.connectionTimeoutMs;
    // ssh2 may report the connection's close before its channels' closes: retire every
    // channel at once so no operation is handed a channel of the dead connection.
    this.offDrop = conn.onDrop((why) => {
      for (const c of [...this.live]) c.destroy(why);
    });
  }

  /** Channels currently open (for tests and diagnostics). */
  get size(): number {
    return this.live.size;
  }

  /** One command, connect included, under the connection's deadline (SshConnection.operation). */
  run(spec: Omit<FrameSpec, 'timeoutSeconds'> & { timeoutMs?: number }, what: string): Promise<ExecResult> {
    return this.conn.operation(what, async (signal) => {
      let channel = await this.acquire(signal);
      // A channel can die between being handed over and being used (a drop noticed in
      // between); nothing was sent on it yet, so taking another one is safe.
      while (channel.dead) channel = await this.acquire(signal);
      // The deadline passed while we queued: the caller was told it failed, so it must not run.
      if (signal.aborted) {
        this.release(channel);
        throw signal.reason;
      }
      try {
        return await channel.exec(spec, what);
      } finally {
        this.release(channel);
      }
    });
  }

  /** Open a first shell now (connecting if needed), so the first command finds it ready. */
  warm(): Promise<void> {
    if (this.closed || this.live.size + this.opening > 0) return Promise.resolve();
    return this.openOne();
  }

  private acquire(signal: AbortSignal): Promise<ShellChannel> {
    if (this.closed) return Promise.reject(new EnnioError('SSH_CONNECT', `connection to ${this.conn.label} was closed`));
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (c) => {
          signal.removeEventListener('abort', onAbort);
          resolve(c);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  private release(channel: ShellChannel): void {
    if (!channel.dead && !this.closed) this.idle.push(channel);
    this.pump();
  }

  private pump(): void {
    this.idle = this.idle.filter((c) => !c.dead);
    while (this.waiters.length > 0 && this.idle.length > 0) {
      (this.waiters.shift() as Waiter).resolve(this.idle.pop() as ShellChannel);
    }
    if (this.limit < this.max && Date.now() >= this.limitResetAt) this.limit = this.max;
    while (!this.retryTimer && this.waiters.length > this.opening && this.live.size + this.opening < this.limit) {
      void this.openOne();
    }
  }

  private async openOne(): Promise<void> {
    this.opening += 1;
    try {
      const channel = await ShellChannel.open(this.conn, this.conn.target.connectionTimeoutMs);
      this.refusedSince = undefined;
      this.refusals = 0;
      if (this.closed) {
        channel.destroy();
        return;
      }
      this.live.add(channel);
      channel.onClose(() => {
        this.live.delete(channel);
        this.pump();
      });
      this.idle.push(channel);
    } catch (err) {
      if (err instanceof ChannelRefusedError) this.refused(err);
      // With no channel left, a failure (cannot connect, auth, host key) is the answer
      // for everyone waiting; otherwise only for the operation this channel was for.
      else if (this.live.size === 0) this.failWaiters(err as Error);
      else this.waiters.shift()?.reject(err as Error);
    } finally {
      this.opening -= 1;
      this.pump();
    }
  }

  private refused(err: ChannelRefusedError): void {
    this.limit = Math.max(1, this.live.size);
    this.limitResetAt = Date.now() + LIMIT_RESET_MS;
    if (this.live.size > 0) return; // queue for the channels we have
    this.refusedSince ??= Date.now();
    if (Date.now() - this.refusedSince >= this.refusalBudgetMs) {
      this.refusedSince = undefined;
      this.failWaiters(err);
      return;
    }
    // Nothing open on our side: the sessions are someone else's (sftp, another channel
    // user); wait for one to end.
    const delay = Math.min(2000, 50 * 2 ** this.refusals);
    this.refusals += 1;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, delay);
  }

  private failWaiters(err: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  /** Close every channel; operations in flight fail, later ones are refused. */
  close(): void {
    this.closed = true;
    this.offDrop();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.failWaiters(new EnnioError('SSH_CONNECT', `connection to ${this.conn.label} was closed`));
    for (const c of [...this.live]) c.destroy();
    this.idle = [];
  }
}
