/**
 * The lifecycle of one SSH connection (through its bastions): connect on first use,
 * notice a drop (close/error events, keepalive), reconnect with backoff on the next
 * operation. It owns state and retries; moving bytes is for the channels it opens.
 */
import type { Client, ClientChannel } from 'ssh2';
import { EnnioError, isEnnioError } from '../../core/errors.js';
import { connectChain, type ConnectedChain } from './connect.js';
import type { ResolvedSshTarget } from './resolve.js';

export interface SshConnectionOptions {
  /** Warnings (accepted host keys…); default: a line on stderr. */
  warn?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Delays between connection attempts for transient failures (default 250 ms, 1 s, 2 s). */
  retryDelaysMs?: readonly number[];
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

export class SshConnection {
  readonly label: string;
  private chain: ConnectedChain | undefined;
  private pending: Promise<ConnectedChain> | undefined;
  private closed = false;
  private readonly dropListeners = new Set<(err: EnnioError) => void>();
  private readonly warn: (message: string) => void;
  /** How many times a connection was established (1 = first connect). */
  connects = 0;

  constructor(
    readonly target: ResolvedSshTarget,
    private readonly options: SshConnectionOptions = {},
  ) {
    this.label = `${target.username}@${target.host}:${target.port}`;
    this.warn = options.warn ?? ((m) => process.stderr.write(`${m}\n`));
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
        const chain = await connectChain(this.target, { warn: this.warn, deadline: giveUpAt, ...(this.options.env ? { env: this.options.env } : {}) });
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
    let lastError: Error | undefined;
    const dropped = (): void => {
      if (this.chain !== chain) return;
      this.chain = undefined;
      endChain(chain);
      if (this.closed) return;
      const err = new EnnioError('SSH_CONNECT', `connection to ${this.label} was lost${lastError ? `: ${lastError.message}` : ''}`, {
        ...(lastError ? { cause: lastError } : {}),
        hint: 'the next operation reconnects',
      });
      for (const l of this.dropListeners) l(err);
    };
    for (const c of [chain.client, ...chain.hops]) {
      c.on('error', (e: Error) => {
        lastError = e;
      });
      c.on('close', dropped);
      c.on('end', dropped);
    }
  }

  /** An exec channel running `command` through the remote user's login shell. */
  async openSession(command: string): Promise<ClientChannel> {
    const client = await this.client();
    return new Promise((resolve, reject) => {
      try {
        client.exec(command, (err, channel) => {
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
    // A connect still in flight sees `closed` when it completes and ends itself.
    const chain = this.chain;
    this.chain = undefined;
    if (chain) endChain(chain);
  }
}

function endChain(chain: ConnectedChain): void {
  chain.client.end();
  for (const h of [...chain.hops].reverse()) h.end();
}
