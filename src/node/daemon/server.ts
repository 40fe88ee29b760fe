/**
 * The gRPC server: @connectrpc/connect-node over plain HTTP/2 (h2c) on 127.0.0.1 only,
 * gRPC protocol only, so any standard gRPC client speaks to it through an SSH tunnel.
 *
 * Interceptors, outermost first: activity (idle tracking, draining, one log line per
 * call), auth (when a token is set), error mapping (EnnioError → gRPC status).
 * Shutdown is graceful: new calls get UNAVAILABLE, calls in flight finish, then every
 * HTTP/2 session gets a GOAWAY and the listener closes.
 */
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { Code, ConnectError, type Interceptor, type ServiceImpl } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { EnnioNode } from '../gen/ennio_node_pb.js';
import { authInterceptor } from './auth.js';
import { TunnelStream } from '../tunnel-stream.js';
import { withSpecGrpcMessage } from './grpc-message.js';
import { toConnectError } from './errors.js';
import { IdleTracker } from './idle.js';
import type { Logger } from './log.js';

/** Read-only calls are frequent (status polling) and logged only when they fail. */
const QUIET = new Set(['GetOutput', 'IsAlive', 'Heartbeat', 'ListRuntimes']);
/** How long a non-graceful shutdown lets open streams finish before exiting anyway. */
const FORCE_AFTER_MS = 1000;
/** How long open HTTP/2 sessions get to close after the last call ended. */
const CLOSE_LIMIT_MS = 5000;

export interface ServerConfig {
  port: number;
  token: string | undefined;
  idleTimeoutSecs: number;
  log: Logger;
  service: (requestShutdown: (graceful: boolean) => void) => ServiceImpl<typeof EnnioNode>;
}

export type StopReason = 'shutdown-rpc' | 'idle' | 'signal';

export class NodeServer {
  private readonly server: http2.Http2Server;
  private readonly listener: net.Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly idle: IdleTracker;
  private draining = false;
  private finishing = false;
  private stopReason: StopReason = 'signal';
  private resolveStopped!: (reason: StopReason) => void;
  /** Resolves once the server has stopped (after a Shutdown call, idleness or a signal). */
  readonly stopped: Promise<StopReason>;

  constructor(private readonly config: ServerConfig) {
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.idle = new IdleTracker(config.idleTimeoutSecs * 1000, () => {
      config.log.info('idle timeout reached, exiting', { idle_timeout_secs: config.idleTimeoutSecs });
      this.shutdown(true, 'idle');
    });
    const interceptors: Interceptor[] = [this.activity()];
    if (config.token !== undefined) interceptors.push(authInterceptor(config.token));
    interceptors.push(errorMapping);
    const handler = connectNodeAdapter({
      grpc: true,
      grpcWeb: false,
      connect: false,
      interceptors,
      routes: (router) => router.service(EnnioNode, config.service((graceful) => this.shutdown(graceful, 'shutdown-rpc'))),
    });
    this.server = http2.createServer({}, withSpecGrpcMessage(handler));
    // We accept TCP ourselves and hand http2 a TunnelStream: a response (HEADERS, DATA,
    // trailers, written in separate ticks) then leaves as one write, so sshd forwards it
    // as one packet instead of holding the trailers back for a delayed ACK (Nagle).
    this.listener = net.createServer((socket) => {
      socket.setNoDelay(true);
      this.server.emit('connection', new TunnelStream(() => Promise.resolve(socket), 0));
    });
    this.server.on('session', (s) => {
      this.sessions.add(s);
      s.on('close', () => this.sessions.delete(s));
      // A client vanishing mid-stream (tunnel cut) is routine, not a crash.
      s.on('error', (err) => config.log.warn('http2 session error', { error: err.message }));
    });
  }

  /** Listen on 127.0.0.1 (never other interfaces: the SSH tunnel is the way in). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(
          new Error(
            err.code === 'EADDRINUSE'
              ? `port ${this.config.port} on 127.0.0.1 is already in use (another ennio-node?)`
              : `cannot listen on 127.0.0.1:${this.config.port}: ${err.message}`,
          ),
        );
      };
      this.listener.once('error', onError);
      this.listener.listen(this.config.port, '127.0.0.1', () => {
        this.listener.off('error', onError);
        resolve((this.listener.address() as net.AddressInfo).port);
      });
    });
  }

  /** Stop accepting calls; graceful waits for calls in flight, otherwise at most 1 s. */
  shutdown(graceful: boolean, reason: StopReason): void {
    if (this.draining) return;
    this.draining = true;
    this.stopReason = reason;
    this.idle.stop();
    if (!graceful) {
      setImmediate(() => this.finish());
      setTimeout(() => this.resolveStopped(reason), FORCE_AFTER_MS).unref();
    } else if (this.idle.inFlight === 0) {
      setImmediate(() => this.finish());
    }
    // Otherwise the last call to end calls finish() (see activity()).
  }

  private finish(): void {
    if (this.finishing) return;
    this.finishing = true;
    // Stop accepting; GOAWAY lets streams already open (e.g. the Shutdown response) complete.
    const open = [...this.sessions].map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    const listening = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    void Promise.all([listening, ...open]).then(() => this.resolveStopped(this.stopReason));
    // A peer that never reads its last response must not keep the daemon alive.
    setTimeout(() => {
      for (const s of this.sessions) s.destroy();
      this.resolveStopped(this.stopReason);
    }, CLOSE_LIMIT_MS).unref();
  }

  private activity(): Interceptor {
    return (next) => async (req) => {
      if (this.draining) throw new ConnectError('ennio-node is shutting down', Code.Unavailable);
      const started = performance.now();
      this.idle.begin();
      try {
        const res = await next(req);
        if (!QUIET.has(req.method.name)) this.logCall(req.method.name, 'OK', started);
        return res;
      } catch (err) {
        this.logCall(req.method.name, err instanceof ConnectError ? Code[err.code] : 'Internal', started, err);
        throw err;
      } finally {
        this.idle.end();
        if (this.draining && this.idle.inFlight === 0) setImmediate(() => this.finish());
      }
    };
  }

  private logCall(method: string, code: string, started: number, err?: unknown): void {
    const fields = { method, code, ms: Math.round((performance.now() - started) * 10) / 10 };
    if (err === undefined) this.config.log.info('rpc', fields);
    else this.config.log.warn('rpc failed', { ...fields, error: err instanceof Error ? err.message : String(err) });
  }
}

const errorMapping: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (err) {
    throw toConnectError(err);
  }
};
