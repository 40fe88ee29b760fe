/**
 * One HTTP request over a Unix socket, written and read by hand: loading node:http (agent,
 * client, parser) is ~6 ms of a ~100 ms CLI command. The request is HTTP/1.0, so the
 * orchestrator (node:http) answers without chunked encoding and closes the connection at
 * the end: the body is every byte after the head, streamed as it comes.
 */
import { EventEmitter } from 'node:events';
import { connect } from 'node:net';

export interface UnixRequestOptions {
  socketPath: string;
  method: string;
  path: string;
  /** Values must be header-safe (no CR/LF): ennio sends base64, hex and fixed strings. */
  headers: Record<string, string | number>;
  body?: string;
}

/** The answer: emits 'data' (Buffer), then 'end' or 'error'. */
export interface UnixResponse extends EventEmitter {
  statusCode: number;
}

/** The request: emits 'error' (with the socket's error code) when no answer started. */
export interface UnixRequest extends EventEmitter {
  destroy(): void;
}

const HEAD_END = Buffer.from('\r\n\r\n');
/** An answer's head is a few hundred bytes; more without its end is not our orchestrator. */
const MAX_HEAD = 64 * 1024;

export function unixRequest(options: UnixRequestOptions, onResponse: (res: UnixResponse) => void): UnixRequest {
  const request = new EventEmitter() as UnixRequest;
  const socket = connect(options.socketPath);
  request.destroy = () => void socket.destroy();
  const lines = [`${options.method} ${options.path} HTTP/1.0`, ...Object.entries(options.headers).map(([k, v]) => `${k}: ${v}`)];
  if (options.body !== undefined) lines.push(`content-length: ${Buffer.byteLength(options.body)}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n${options.body ?? ''}`);

  let response: UnixResponse | undefined;
  let head: Buffer = Buffer.alloc(0);
  const fail = (err: Error): void => void (response ? response.emit('error', err) : request.emit('error', err));
  socket.on('data', (chunk: Buffer) => {
    if (response) return void response.emit('data', chunk);
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    const end = head.indexOf(HEAD_END);
    if (end < 0) {
      if (head.length > MAX_HEAD) settle(() => fail(Object.assign(new Error('no HTTP answer head'), { code: 'EPROTO' })));
      if (settled) socket.destroy();
      return;
    }
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'));
    if (!status) {
      settle(() => fail(Object.assign(new Error('not an HTTP answer'), { code: 'EPROTO' })));
      return void socket.destroy();
    }
    response = Object.assign(new EventEmitter(), { statusCode: Number(status[1]) });
    onResponse(response);
    const rest = head.subarray(end + HEAD_END.length);
    if (rest.length > 0) response.emit('data', rest);
  });
  let settled = false;
  const settle = (what: () => void): void => {
    if (settled) return;
    settled = true;
    what();
  };
  const reset = (why: string): Error => Object.assign(new Error(why), { code: 'ECONNRESET' });
  socket.on('end', () => settle(() => (response ? response.emit('end') : fail(reset('closed before answering')))));
  socket.on('error', (err) => settle(() => fail(err)));
  // destroy() (Ctrl-C, an aborted follow) ends the exchange too: the caller hears of it.
  socket.on('close', () => settle(() => fail(reset('connection closed'))));
  return request;
}
