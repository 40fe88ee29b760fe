/**
 * The gRPC transport to one daemon: Connect's gRPC protocol over ONE HTTP/2 session
 * whose socket is a byte stream from `dial` — an SSH `forwardOut('127.0.0.1', port)`
 * channel in production (no local listener, no local port), a TCP socket in tests.
 *
 * The session is kept warm between calls (Connect's Http2SessionManager re-dials only
 * when the session died, e.g. after the daemon exited), so a warm call is one HTTP/2
 * stream on an open channel.
 *
 * Dialing happens BEFORE Connect opens a session (TunnelSessions.request), so a refused
 * channel (no daemon listening) is a clean, catchable UNAVAILABLE on the call instead of
 * an error event on a half-made HTTP/2 session. `dialFailures` counts those: a call that
 * failed while the counter moved never reached a daemon, so it is safe to retry.
 */
import type * as http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { Code, ConnectError, type Interceptor, type Transport } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager, type GrpcTransportOptions } from '@connectrpc/connect-node';
import { CLIENT_PREFACE_BYTES, TunnelStream } from '../tunnel-stream.js';

export type Dial = () => Promise<Duplex>;

type SessionManager = NonNullable<GrpcTransportOptions['sessionManager']>;

export interface TunnelTransportOptions {
  dial: Dial;
  /** Read for every call, so a token adopted later applies to the warm session too. */
  token: () => string | undefined;
}

/** The authority only names the daemon in :authority; bytes go wherever dial() goes. */
const BASE_URL = 'http://127.0.0.1';

class TunnelSessions implements SessionManager {
  readonly authority: string;
  readonly inner: Http2SessionManager;
  private pending: Duplex | undefined;
  private dialing: Promise<void> | undefined;
  private readonly seen = new WeakSet<http2.Http2Session>();
  /** The current session got a GOAWAY (daemon stopping): Connect will open a new one. */
  private goaway = false;

  constructor(private readonly dialTracked: Dial) {
    this.inner = new Http2SessionManager(BASE_URL, { idleConnectionTimeoutMs: 15 * 60_000 }, {
      createConnection: () => {
        const ready = this.pending;
        this.pending = undefined;
        // Normally the channel is already open; a reconnect Connect starts on its own
        // (e.g. after a GOAWAY) dials lazily instead. Either way writes are batched.
        const stream = new TunnelStream(ready === undefined ? this.dialTracked : () => Promise.resolve(ready), CLIENT_PREFACE_BYTES);
        stream.on('error', () => {}); // reported through the session; must not go unhandled
        return stream;
      },
    });
    this.authority = this.inner.authority;
  }

  async request(
    method: string,
    path: string,
    headers: http2.OutgoingHttpHeaders,
    options: Omit<http2.ClientSessionRequestOptions, 'signal'>,
  ): Promise<http2.ClientHttp2Stream> {
    const state = this.inner.state();
    if (state === 'closed' || state === 'error' || this.goaway) {
      this.goaway = false;
      this.dialing ??= this.dialTracked()
        .then((s) => {
          this.pending = s;
        })
        .finally(() => {
          this.dialing = undefined;
        });
      try {
        await this.dialing;
      } catch (err) {
        throw new ConnectError(err instanceof Error ? err.message : String(err), Code.Unavailable, undefined, undefined, err);
      }
    }
    try {
      const stream = await this.inner.request(method, path, headers, options);
      this.watch(stream.session);
      return stream;
    } finally {
      // Opened but not used (another call connected first): do not leak the channel.
      if (this.pending !== undefined && this.dialing === undefined) {
        this.pending.destroy();
        this.pending = undefined;
      }
    }
  }

  private watch(session: http2.Http2Session | undefined): void {
    if (session === undefined || this.seen.has(session)) return;
    this.seen.add(session);
    session.once('goaway', () => {
      this.goaway = true;
    });
    // Connect stops listening for session errors when it leaves a state; a late error
    // (tunnel torn down) would otherwise be an uncaught exception. Calls still fail.
    session.on('error', () => {});
  }

  notifyResponseByteRead(stream: http2.ClientHttp2Stream): void {
    this.inner.notifyResponseByteRead(stream);
  }
}

export class TunnelTransport {
  readonly transport: Transport;
  private readonly sessions: TunnelSessions;
  private failures = 0;
  private open = 0;
  /** Why the last dial failed (e.g. the SSH channel was refused), for messages. */
  lastDialError: Error | undefined;
  /** Called when a tunnel stream closes (daemon exited, SSH connection lost). */
  onDisconnect: (() => void) | undefined;

  constructor(options: TunnelTransportOptions) {
    const authorize: Interceptor = (next) => (req) => {
      const token = options.token();
      if (token !== undefined) req.header.set('authorization', `Bearer ${token}`);
      return next(req);
    };
    this.sessions = new TunnelSessions(async () => {
      try {
        const s = await options.dial();
        this.open++;
        s.once('close', () => {
          this.open--;
          this.onDisconnect?.();
        });
        return s;
      } catch (err) {
        this.failures++;
        this.lastDialError = err instanceof Error ? err : new Error(String(err));
        throw err;
      }
    });
    this.transport = createGrpcTransport({ baseUrl: BASE_URL, sessionManager: this.sessions, interceptors: [authorize] });
  }

  /** How many dials have failed so far (compare before and after a call). */
  get dialFailures(): number {
    return this.failures;
  }

  /** Whether a tunnel stream is open right now. */
  get connected(): boolean {
    return this.open > 0;
  }

  /** Close the HTTP/2 session (and with it the tunnel stream). */
  close(): void {
    // With the tunnel already gone, http2 is tearing the session down itself; aborting
    // now would write a GOAWAY into a closing JSStreamSocket (an internal assertion in node).
    if (this.open > 0) this.sessions.inner.abort();
  }
}
