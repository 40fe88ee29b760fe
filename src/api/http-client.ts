/**
 * EnnioApi over the orchestrator's Unix socket: what the CLI is when an orchestrator runs.
 * Imports only light modules (not even node:http: unix-http.ts), so a command answered by
 * the orchestrator starts in tens of milliseconds.
 */
import { EnnioError, type ErrorCode } from '../core/errors.js';
import type { CleanupResult, DashboardLogin, EnnioApi, NodeConnectJson, NodeDisconnectJson, NodeListJson, NodeStatusJson, ListResult, OutputResult, SendResult, SessionInfoJson, SessionJson, SpawnRequest, WaitRequest, WaitResult, WireError } from './contract.js';
import { unixRequest, type UnixResponse } from './unix-http.js';
import { BUILD_HEADER, CALLER_HEADER, encodeCaller, NDJSON, PRINT_HEADER, REQUEST_ID_HEADER, type WireCaller, type WireLine } from './wire.js';

let requests = 0;
/**
 * Names a request so Ctrl-C can cancel it. Unique among this user's requests is enough (the
 * socket is the user's own): no crypto module to load on the CLI's hot path.
 */
function requestId(): string {
  return `${process.pid.toString(36)}-${Date.now().toString(36)}-${(requests++).toString(36)}`;
}

/** Nobody listens on the socket (never started, or killed): the caller may start one and retry. */
export class ServerUnavailable extends Error {
  constructor(readonly reason: string) {
    super(`no orchestrator answers: ${reason}`);
  }
}

/** The orchestrator is another build: the caller replaces it and retries. */
export class ServerBuildMismatch extends Error {}

function toError(e: WireError): EnnioError {
  return new EnnioError(e.code as ErrorCode, e.message, e.hint ? { hint: e.hint } : undefined);
}

export interface HttpApiOptions {
  socket: string;
  caller: WireCaller;
  build: string;
  /** What a slow request waits for (the orchestrator's progress lines). */
  onProgress?: (text: string) => void;
}

interface CallOptions {
  /** Streamed output lines (a follow). */
  onText?: (text: string) => void;
  onNotice?: (text: string) => void;
  signal?: AbortSignal;
  /** Ask for what `--json` prints, rendered by the orchestrator (wire.ts, PRINT_HEADER): the answer is those bytes. */
  print?: 'json';
}

export class HttpApi implements EnnioApi {
  private readonly callerHeader: string;

  constructor(private readonly opts: HttpApiOptions) {
    this.callerHeader = encodeCaller(opts.caller);
  }

  /** One request; its answer is NDJSON lines. */
  call<T>(method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<T> {
    const { onText, signal, onNotice, print } = options;
    const rid = requestId();
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        process.off('SIGINT', onSigint);
        fn();
      };
      // Ctrl-C: ask the orchestrator to stop this request (it rolls back as in-process
      // would) and wait for its answer; a second Ctrl-C gives up at once.
      let interrupted = false;
      const onSigint = (): void => {
        if (onText) {
          interrupted = true;
          req.destroy(); // a follow just ends
          return;
        }
        if (interrupted) process.exit(130);
        interrupted = true;
        process.exitCode = 130;
        unixRequest({ socketPath: this.opts.socket, method: 'POST', path: `/api/v1/requests/${rid}/cancel`, headers: {} }, (res) => res.on('error', () => {})).on('error', () => {});
      };
      process.on('SIGINT', onSigint);
      const req = unixRequest(
        {
          socketPath: this.opts.socket,
          method,
          path,
          headers: {
            accept: NDJSON,
            [CALLER_HEADER]: this.callerHeader,
            [BUILD_HEADER]: this.opts.build,
            [REQUEST_ID_HEADER]: rid,
            ...(print ? { [PRINT_HEADER]: print } : {}),
            ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(payload === undefined ? {} : { body: payload }),
        },
        (res) =>
          // Settled on the outcome line: the answer is whole, the connection is not needed.
          this.readAnswer<T>(res, onText, onNotice).finally(() => req.destroy()).then(
            (v) => finish(() => resolve(v)),
            // A follow that we ended ourselves (Ctrl-C, abort) is a normal end, not an error.
            (e: unknown) => finish(() => (onText && (interrupted || signal?.aborted) ? resolve(undefined as T) : reject(e))),
          ),
      );
      signal?.addEventListener('abort', () => req.destroy(), { once: true });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (signal?.aborted || (onText && interrupted)) return finish(() => resolve(undefined as T));
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') return finish(() => reject(new ServerUnavailable(err.code ?? 'no socket')));
        finish(() => reject(new EnnioError('SERVER_UNAVAILABLE', `the orchestrator went away while handling the request (${err.code ?? err.message})`, {
          hint: 'check with `ennio status`; the next command starts a new orchestrator (its log: $ENNIO_HOME/logs/server.log)',
        })));
      });
    });
  }

  private readAnswer<T>(res: UnixResponse, onText?: (text: string) => void, onNotice?: (text: string) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // First: the caller destroys the request once this settles, which ends in an 'error'.
      res.on('error', () => reject(new EnnioError('SERVER_UNAVAILABLE', 'the orchestrator closed the stream')));
      if (res.statusCode === 426) {
        return reject(new ServerBuildMismatch('orchestrator of another build'));
      }
      let outcome: { result: unknown; printed?: number } | { error: WireError } | undefined;
      const line = (text: string): void => {
        if (!text) return;
        const msg = JSON.parse(text) as WireLine;
        if ('progress' in msg) this.opts.onProgress?.(msg.progress);
        else if ('text' in msg) onText?.(msg.text);
        else if ('notice' in msg) onNotice?.(msg.notice);
        else outcome = msg;
      };
      // Lines are cut on the newline byte (never part of a multi-byte UTF-8 character) and
      // only the new chunk is searched: status of 1,000 sessions is one 0.6 MB line, which
      // re-scanning a growing string for every chunk made ~20 ms of the command.
      let pending: Buffer[] = [];
      const lineOf = (last: Buffer): string => {
        const text = (pending.length === 0 ? last : Buffer.concat([...pending, last])).toString('utf8');
        pending = [];
        return text;
      };
      /** Rendered output announced by the outcome line: its bytes so far. */
      let printed: { bytes: Buffer[]; length: number; want: number } | undefined;
      const settle = (): void => {
        if (outcome && 'error' in outcome) reject(toError(outcome.error));
        else if (printed && printed.length >= printed.want) resolve(Buffer.concat(printed.bytes, printed.length).subarray(0, printed.want) as T);
        else if (outcome && !printed) resolve(outcome.result as T);
        // Every answer ends with its outcome line (and what it announces): without, the orchestrator went away.
        else reject(new EnnioError('SERVER_UNAVAILABLE', onText ? 'the orchestrator closed the stream' : 'the orchestrator ended the answer early', { hint: 'see $ENNIO_HOME/logs/server.log' }));
      };
      const takePrinted = (bytes: Buffer): void => {
        printed!.bytes.push(bytes);
        printed!.length += bytes.length;
        if (printed!.length >= printed!.want) settle();
      };
      res.on('data', (chunk: Buffer) => {
        if (printed) return takePrinted(chunk);
        let start = 0;
        for (let nl = chunk.indexOf(10); nl >= 0 && !outcome; nl = chunk.indexOf(10, start)) {
          line(lineOf(chunk.subarray(start, nl)));
          start = nl + 1;
        }
        if (outcome && 'printed' in outcome && typeof outcome.printed === 'number') {
          printed = { bytes: [], length: 0, want: outcome.printed };
          return takePrinted(chunk.subarray(start));
        }
        // The outcome line is the last: done without waiting for the orchestrator to close
        // the connection, which it does a tick later, or a sweep later when one is running.
        if (outcome) return settle();
        if (start < chunk.length) pending.push(chunk.subarray(start));
      });
      res.on('end', () => {
        if (!outcome) line(lineOf(Buffer.alloc(0)));
        settle();
      });
    });
  }

  spawn(req: SpawnRequest): Promise<SessionJson> {
    return this.call('POST', '/api/v1/sessions', req);
  }

  list(project?: string): Promise<ListResult> {
    return this.call('GET', `/api/v1/sessions${project ? `?project=${encodeURIComponent(project)}` : ''}`);
  }

  /** `status --json`'s output, rendered by the orchestrator: no parsing and re-printing here. */
  listPrinted(project?: string): Promise<Buffer> {
    return this.call('GET', `/api/v1/sessions${project ? `?project=${encodeURIComponent(project)}` : ''}`, undefined, { print: 'json' });
  }

  info(id: string): Promise<SessionInfoJson> {
    return this.call('GET', `/api/v1/sessions/${encodeURIComponent(id)}`);
  }

  send(id: string, message: string): Promise<SendResult> {
    return this.call('POST', `/api/v1/sessions/${encodeURIComponent(id)}/send`, { message });
  }

  output(id: string, lines: number): Promise<OutputResult> {
    return this.call('GET', `/api/v1/sessions/${encodeURIComponent(id)}/output?lines=${lines}`);
  }

  async follow(id: string, lines: number, onText: (text: string) => void, signal: AbortSignal, onNotice?: (text: string) => void): Promise<void> {
    await this.call('GET', `/api/v1/sessions/${encodeURIComponent(id)}/output?lines=${lines}&follow=1`, undefined, { onText, signal, onNotice });
  }

  async attachArgv(id: string): Promise<string[]> {
    return (await this.call<{ argv: string[] }>('GET', `/api/v1/sessions/${encodeURIComponent(id)}/attach`)).argv;
  }

  kill(id: string): Promise<SessionJson> {
    return this.call('DELETE', `/api/v1/sessions/${encodeURIComponent(id)}`);
  }

  restore(id: string): Promise<SessionJson> {
    return this.call('POST', `/api/v1/sessions/${encodeURIComponent(id)}/restore`);
  }

  cleanup(purge: boolean): Promise<CleanupResult> {
    return this.call('POST', '/api/v1/cleanup', { purge });
  }

  wait(req: WaitRequest): Promise<WaitResult> {
    return this.call('POST', '/api/v1/wait', req);
  }

  nodes(): Promise<NodeListJson[]> {
    return this.call('GET', '/api/v1/nodes');
  }

  nodeStatus(target: string): Promise<NodeStatusJson[]> {
    return this.call('GET', `/api/v1/nodes/${encodeURIComponent(target)}`);
  }

  nodeConnect(project: string): Promise<NodeConnectJson> {
    return this.call('POST', `/api/v1/nodes/${encodeURIComponent(project)}/connect`);
  }

  nodeDisconnect(project: string, shutdown: boolean): Promise<NodeDisconnectJson> {
    return this.call('POST', `/api/v1/nodes/${encodeURIComponent(project)}/disconnect`, { shutdown });
  }

  /** A dashboard URL with a one-time login token for this caller (not part of EnnioApi: only an orchestrator has one). */
  dashboardLogin(): Promise<DashboardLogin> {
    return this.call('POST', '/api/v1/dashboard/login');
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
