/**
 * WebSocket /api/v1/sessions/{id}/terminal?cols=C&rows=R: a session's terminal in the
 * browser. Server → browser: binary frames are terminal bytes; text frames are JSON
 * {type:'size',cols,rows} (resize the terminal, the next bytes redraw it), {type:'end',reason}
 * or {type:'error',code,message,hint?}. Browser → server: JSON {type:'keys',data},
 * {type:'paste',data}, {type:'resize',cols,rows}.
 *
 * Same authentication as the API; the upgrade must come from the dashboard's origin when
 * a browser makes it (request-auth.ts mayChange): a WebSocket is not bound by CORS.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { withEnv } from '../core/request-env.js';
import type { TerminalStream } from '../strategies/types.js';
import type { PooledContext } from './contexts.js';
import { callerFor, type HandlerDeps } from './http-handler.js';
import { wireError } from './http-io.js';
import { authenticate, mayChange } from './request-auth.js';

const PATH = /^\/api\/v1\/sessions\/([^/]+)\/terminal$/;
/** A browser that cannot keep up (or went away without closing) is dropped, not buffered forever. */
const MAX_BUFFERED = 16 * 1024 * 1024;

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text) + 1}\r\n\r\n${text}\n`);
}

const dimension = (value: string | null, fallback: number, max: number): number => {
  const n = Number(value);
  return Number.isInteger(n) && n >= 2 && n <= max ? n : fallback;
};

export interface TerminalSockets {
  upgrade(transport: 'unix' | 'tcp'): (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** End every open terminal (the orchestrator stops). */
  closeAll(): void;
}

export function terminalSockets(deps: HandlerDeps): TerminalSockets {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 8 * 1024 * 1024 });
  const upgrade = (transport: 'unix' | 'tcp') => (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    deps.touch();
    const url = new URL(req.url ?? '/', 'http://ennio');
    const match = PATH.exec(url.pathname);
    if (!match) return refuse(socket, 404, 'Not Found');
    const auth = authenticate(transport, req, deps.tokenDigest(), deps.browser);
    if (!auth) return refuse(socket, 401, 'Unauthorized');
    if (!mayChange(auth, req)) return refuse(socket, 403, 'Forbidden');
    let ctx: PooledContext;
    try {
      ctx = deps.pool.get(callerFor(deps, auth, req));
    } catch (err) {
      return refuse(socket, 400, wireError(err).message.replace(/[\r\n]+/g, ' '));
    }
    const id = decodeURIComponent(match[1]!);
    const size = { cols: dimension(url.searchParams.get('cols'), 120, 1000), rows: dimension(url.searchParams.get('rows'), 40, 500) };
    wss.handleUpgrade(req, socket, head, (ws) => void serveTerminal(deps, ctx, id, size, ws));
  };
  return {
    upgrade,
    closeAll: () => {
      for (const ws of wss.clients) ws.close(1001, 'orchestrator stopping');
    },
  };
}

async function serveTerminal(deps: HandlerDeps, ctx: PooledContext, id: string, size: { cols: number; rows: number }, ws: WebSocket): Promise<void> {
  deps.streams.count++;
  let terminal: TerminalStream | undefined;
  let gone = false;
  ws.on('close', () => {
    gone = true;
    deps.streams.count--;
    terminal?.close();
  });
  ws.on('error', () => ws.terminate());
  const sendJson = (value: unknown): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(value));
  };
  // Keys typed while the terminal opens are kept and delivered once it is open.
  const early: Array<(t: TerminalStream) => void> = [];
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const apply = message(isBinary ? undefined : String(data), size);
    if (!apply) return;
    if (terminal) apply(terminal);
    else early.push(apply);
  });
  let opened: TerminalStream;
  try {
    opened = await withEnv(ctx.env, () => ctx.manager.openTerminal(id, size));
  } catch (err) {
    sendJson({ type: 'error', ...wireError(err) });
    ws.close(1011, 'no terminal');
    return;
  }
  if (gone) return opened.close();
  opened.onSize((s) => sendJson({ type: 'size', ...s }));
  opened.onOutput((bytes) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED) {
      deps.log.warn('terminal viewer too slow; closing its stream', { session: id });
      ws.close(1013, 'too slow');
      return;
    }
    ws.send(bytes, { binary: true });
  });
  opened.onEnd((reason) => {
    sendJson({ type: 'end', reason });
    ws.close(1000, 'ended');
  });
  terminal = opened;
  for (const apply of early.splice(0)) apply(opened);
}

/** What a browser's message asks of the terminal, or undefined for anything else. */
function message(text: string | undefined, size: { cols: number; rows: number }): ((t: TerminalStream) => void) | undefined {
  if (text === undefined) return undefined;
  let msg: { type?: unknown; data?: unknown; cols?: unknown; rows?: unknown };
  try {
    msg = JSON.parse(text) as typeof msg;
  } catch {
    return undefined;
  }
  const data = msg.data;
  if (msg.type === 'keys' && typeof data === 'string') return (t) => t.keys(data);
  if (msg.type === 'paste' && typeof data === 'string') return (t) => t.paste(data);
  if (msg.type === 'resize' && typeof msg.cols === 'number' && typeof msg.rows === 'number') {
    const next = { cols: dimension(String(msg.cols), size.cols, 1000), rows: dimension(String(msg.rows), size.rows, 500) };
    return (t) => t.resize(next);
  }
  return undefined;
}
