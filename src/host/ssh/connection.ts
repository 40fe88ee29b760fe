/**
 * The lifecycle of one SSH connection (through its bastions): connect on first use,
 * notice a drop (close/error events, keepalive, unanswered probes), reconnect with
 * backoff on the next operation. It owns state, deadlines and retries; moving bytes is
 * for the channels it opens.
 *
 * While an operation waits on the host (`operation()`), the link is probed every second
 * (link-probe.ts) and the operation has one deadline: it fails when the host has not
 * answered for connection_timeout, counted from the operation's start or the host's last
 * answer, whichever is later — connecting and running alike. After a second of waiting
 * it says what it waits for (src/core/progress.ts). A link silent for a few seconds gets
 * a replacement connection in parallel: if the new one answers while the old is still
 * silent, the old one is dropped (a TCP connection that lived through a cut can stay
 * silent for a minute after the link is back).
 */
import type { Client, ClientChannel } from 'ssh2';
import { EnnioError, isEnnioError } from '../../core/errors.js';
import { progressTask } from '../../core/progress.js';
import { connectChain, type ConnectedChain } from './connect.js';
import { sendProbe } from './link-probe.js';
import type { ResolvedSshTarget } from './resolve.js';

export interface SshConnectionOptions {
  /** Warnings (accepted host keys…); default: a line on stderr. */
  warn?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Delays between connection attempts for transient failures (default 250 ms, 1 s, 2 s). */
  retryDelaysMs?: readonly number[];
  /** Silence after which a replacement connection is tried (default min(3 s, connection_timeout / 2)). */
  stallAfterMs?: number;
}

/** The server refused to open a channel (e.g. OpenSSH MaxSessions); the connection is fine. */
export class ChannelRefusedError extends EnnioError {
  constructor(label: string, detail: string) {
    super('SSH_CHANNEL', `${label} refused to open a session channel (${detail})`, {
      hint: 'the server limits sessions per connection (sshd MaxSessions)',
    });
  }
}

interface ChannelOpenError extends Error {
  reason?: number | string;
}

/** Failures that another attempt cannot fix. */
const PERMANENT = new Set(['SSH_AUTH', 'HOST_KEY_UNKNOWN', 'HOST_KEY_CHANGED', 'CONFIG_INVALID', 'INVALID_ARGUMENT']);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How often a waiting operation checks the link and refreshes what it shows. */
const TICK_MS = 500;
/** Probe the link this often while an operation waits. */
const PROBE_EVERY_MS = 1000;
/** Say what an operation waits for once it waited this long. */
const SHOW_AFTER_MS = 1000;
/** Call a link "not answering" (rather than "busy with a command") after this much silence. */
const QUIET_SHOW_MS = 2000;

const secs = (ms: number): number => Math.max(1, Math.round(ms / 1000));

export class SshConnection {
  readonly label: string;
  private chain: ConnectedChain | undefined;
  private pending: Promise<ConnectedChain> | undefined;
  private closed = false;
  private readonly dropListeners = new Set<(err: EnnioError) => void>();
  private readonly warn: (message: string) => void;
  /** How many times a connection was established (1 = first connect). */
  connects = 0;
  /** The host as the project names it (an ssh_config alias like "build-server"), for messages. */
  readonly name: string;
  private readonly stallAfterMs: number;
  /** When the host last answered (connect, probe reply, channel data). */
  private lastHeard = 0;
  /** Operations waiting on the host; the link is probed while there are any. */
  private busy = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  /** The client with a probe outstanding (one at a time). */
  private probing: Client | undefined;
  private replacing = false;
  /** Aborted by close(): connects still in flight give up at once. */
  private readonly closing = new AbortController();

  constructor(
    readonly target: ResolvedSshTarget,
    private readonly options: SshConnectionOptions = {},
  ) {
    this.label = `${target.username}@${target.host}:${target.port}`;
    this.name = target.alias || target.host;
    this.warn = options.warn ?? ((m) => process.stderr.write(`${m}\n`));
    this.stallAfterMs = options.stallAfterMs ?? Math.min(3000, target.connectionTimeoutMs / 2);
  }

  /** The host answered (channel data, a probe reply): the link works. */
  heard(): void {
    this.lastHeard = Date.now();
  }

  /**
   * Run `run` (which connects and runs a command) with one deadline: it fails with
   * SSH_CONNECT when the host has not answered for connection_timeout. `signal` is
   * aborted then, so `run` can drop work it has not sent yet.
   */
  async operation<T>(what: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const started = Date.now();
    const timeout = this.target.connectionTimeoutMs;
    const abort = new AbortController();
    const task = progressTask();
    const release = this.hold();
    let tick: NodeJS.Timeout | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      tick = setInterval(() => {
        const now = Date.now();
        const quiet = now - Math.max(started, this.lastHeard);
        if (quiet >= timeout) {
          const err = this.noAnswer(what, quiet);
          abort.abort(err);
          reject(err);
          // Silent for connection_timeout: this connection is gone for everyone.
          if (this.chain) this.lose(this.chain, err);
          return;
        }
        if (now - started >= SHOW_AFTER_MS) task.update(this.describeWait(what, now - started, quiet));
        if (quiet >= this.stallAfterMs) this.replaceStalled();
      }, TICK_MS);
    });
    try {
      return await Promise.race([run(abort.signal), watchdog]);
    } finally {
      clearInterval(tick);
      release();
      task.done();
    }
  }

  private describeWait(what: string, elapsed: number, quiet: number): string {
    if (!this.chain) return `${this.connects > 0 ? 'reconnecting' : 'connecting'} to ${this.name} (${secs(elapsed)} s)…`;
    if (quiet >= QUIET_SHOW_MS) return `no answer from ${this.name} for ${secs(quiet)} s${this.replacing ? '; reconnecting' : ''}…`;
    return `waiting for ${what} on ${this.name} (${secs(elapsed)} s)…`;
  }

  private noAnswer(what: string, quiet: number): EnnioError {
    const limit = `${secs(this.target.connectionTimeoutMs)} s`;
    if (!this.chain) {
      return new EnnioError('SSH_CONNECT', `no answer from ${this.name} for ${secs(quiet)} s (connection_timeout ${limit}) while ${this.connects > 0 ? 'reconnecting' : 'connecting'} to ${this.label}`, {
        hint: `check that ${this.name} is reachable (network, VPN, sshd), or raise ssh_config.connection_timeout`,
      });
    }
    return new EnnioError('SSH_CONNECT', `no answer from ${this.name} for ${secs(quiet)} s (connection_timeout ${limit}) while running ${what}; the connection is dropped`, {
      hint: `the link to ${this.name} seems down, so ${what} may or may not have run there; check the network, or raise ssh_config.connection_timeout`,
    });
  }

  /** While an operation waits: probe the link every second. */
  private hold(): () => void {
    if (this.busy++ === 0) this.probeTimer = setInterval(() => this.probe(), PROBE_EVERY_MS);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.busy === 0) {
        clearInterval(this.probeTimer);
        this.probeTimer = undefined;
      }
    };
  }

  private probe(): void {
    const chain = this.chain;
    if (!chain || this.probing === chain.client) return;
    const client = chain.client;
    const sent = sendProbe(client, () => {
      if (this.probing === client) this.probing = undefined;
      if (this.chain === chain) this.heard();
    });
    if (sent) this.probing = client;
  }

  /**
   * The link has been silent for a while: connect again in parallel. If the new
   * connection is up while the old one is still silent, the old one is dropped
   * (operations on it fail as "lost" and the next ones use the new one).
   */
  private replaceStalled(): void {
    const old = this.chain;
    if (!old || this.replacing || this.closed) return;
    this.replacing = true;
    const deadline = Date.now() + this.target.connectionTimeoutMs;
    connectChain(this.target, { warn: this.warn, deadline, signal: this.closing.signal, ...(this.options.env ? { env: this.options.env } : {}) })
      .then((fresh) => {
        const quiet = Date.now() - this.lastHeard;
        if (this.closed || this.chain !== old || quiet < this.stallAfterMs) {
          endChain(fresh);
          return;
        }
        this.lose(old, new EnnioError('SSH_CONNECT', `connection to ${this.name} stopped answering for ${secs(quiet)} s; a new connection works`, {
          hint: 'the command may or may not have run; the next operation uses the new connection',
        }));
        this.adopt(fresh);
      })
      // The old connection's own deadline reports a link that stays down.
      .catch(() => undefined)
      .finally(() => {
        this.replacing = false;
      });
  }

  get connected(): boolean {
    return this.chain !== undefined;
  }

  get connecting(): boolean {
    return this.pending !== undefined;
  }

  /** Called once per lost connection (not for close()). */
  onDrop(listener: (err: EnnioError) => void): () => void {
    this.dropListeners.add(listener);
    return () => this.dropListeners.delete(listener);
  }

  /** The live client, connecting (or reconnecting, with backoff) when needed. */
  async client(): Promise<Client> {
    if (this.closed) throw new EnnioError('SSH_CONNECT', `connection to ${this.label} was closed`);
    if (this.chain) return this.chain.client;
    this.pending ??= this.connectWithRetry().finally(() => {
      this.pending = undefined;
    });
    return (await this.pending).client;
  }

  private async connectWithRetry(): Promise<ConnectedChain> {
    const delays = this.options.retryDelaysMs ?? [250, 1000, 2000];
    // connection_timeout bounds the whole connect, retries included: an unreachable host
    // must not hold `ennio status` for several timeouts in a row.
    const giveUpAt = Date.now() + this.target.connectionTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const chain = await connectChain(this.target, { warn: this.warn, deadline: giveUpAt, signal: this.closing.signal, ...(this.options.env ? { env: this.options.env } : {}) });
        if (this.closed) {
          endChain(chain);
          throw new EnnioError('SSH_CONNECT', `connection to ${this.label} was closed`);
        }
        this.adopt(chain);
        return chain;
      } catch (err) {
        const delay = delays[attempt];
        if (!isEnnioError(err) || PERMANENT.has(err.code) || delay === undefined || this.closed) throw err;
        if (Date.now() + delay >= giveUpAt) throw err;
        await sleep(delay);
      }
    }
  }

  private adopt(chain: ConnectedChain): void {
    this.chain = chain;
    this.connects += 1;
    this.heard();
    let lastError: Error | undefined;
    const dropped = (): void => {
      this.lose(chain, new EnnioError('SSH_CONNECT', `connection to ${this.label} was lost${lastError ? `: ${lastError.message}` : ''}`, {
        ...(lastError ? { cause: lastError } : {}),
        hint: 'the next operation reconnects',
      }));
    };
    for (const c of [chain.client, ...chain.hops]) {
      c.on('error', (e: Error) => {
        lastError = e;
      });
      c.on('close', dropped);
      c.on('end', dropped);
    }
  }

  /** Forget `chain` (if current) and tell the listeners why. */
  private lose(chain: ConnectedChain, err: EnnioError): void {
    if (this.chain !== chain) return;
    this.chain = undefined;
    // destroy, not end: a silent link would hold a polite goodbye (and the process) forever.
    destroyChain(chain);
    if (this.closed) return;
    for (const l of this.dropListeners) l(err);
  }

  /** An exec channel running `command` through the remote user's login shell. */
  async openSession(command: string): Promise<ClientChannel> {
    const client = await this.client();
    return new Promise((resolve, reject) => {
      try {
        client.exec(command, (err, channel) => {
          this.heard(); // an answer, even a refusal
          if (!err) return resolve(channel);
          const reason = (err as ChannelOpenError).reason;
          if (typeof reason === 'number') reject(new ChannelRefusedError(this.label, err.message));
          else reject(new EnnioError('SSH_CHANNEL', `cannot open a channel to ${this.label}: ${err.message}`, { cause: err }));
        });
      } catch (cause) {
        // ssh2 throws synchronously when the socket is already gone.
        reject(new EnnioError('SSH_CONNECT', `connection to ${this.label} is not usable: ${(cause as Error).message}`, { cause }));
      }
    });
  }

  /** A TCP connection from the remote host to host:port (direct-tcpip), as a stream. */
  async forwardOut(host: string, port: number): Promise<ClientChannel> {
    const client = await this.client();
    return new Promise((resolve, reject) => {
      try {
        client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
          if (err) reject(new EnnioError('SSH_CHANNEL', `${this.label} could not connect to ${host}:${port}: ${err.message}`, { cause: err, hint: 'is the service listening there? does sshd allow TCP forwarding?' }));
          else resolve(stream);
        });
      } catch (cause) {
        reject(new EnnioError('SSH_CONNECT', `connection to ${this.label} is not usable: ${(cause as Error).message}`, { cause }));
      }
    });
  }

  /** A connection to a unix socket on the remote host (OpenSSH streamlocal). */
  async forwardOutUnix(socketPath: string): Promise<ClientChannel> {
    const client = await this.client();
    return new Promise((resolve, reject) => {
      try {
        client.openssh_forwardOutStreamLocal(socketPath, (err, stream) => {
          if (err) reject(new EnnioError('SSH_CHANNEL', `${this.label} could not connect to unix socket ${socketPath}: ${err.message}`, { cause: err, hint: 'does sshd allow it (AllowStreamLocalForwarding)?' }));
          else resolve(stream);
        });
      } catch (cause) {
        reject(new EnnioError('SSH_CONNECT', `connection to ${this.label} is not usable: ${(cause as Error).message}`, { cause }));
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    // A connect still in flight gives up (its half-open socket would keep the process alive).
    this.closing.abort();
    const chain = this.chain;
    this.chain = undefined;
    if (!chain) return;
    endChain(chain);
    // A polite end waits for the peer; on a silent link that is forever.
    setTimeout(() => destroyChain(chain), 1000).unref();
  }
}

function destroyChain(chain: ConnectedChain): void {
  for (const c of [chain.client, ...chain.hops]) c.destroy();
}

function endChain(chain: ConnectedChain): void {
  chain.client.end();
  for (const h of [...chain.hops].reverse()) h.end();
}
