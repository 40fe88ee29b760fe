/**
 * TunnelStream: the Duplex HTTP/2 runs on, on both ends of the SSH tunnel.
 *
 * - Usable at once, connected asynchronously: http2.connect() wants `createConnection`
 *   to return a socket synchronously, while an SSH `forwardOut` channel opens later. Writes
 *   before that are held; a failed open destroys the stream with the open's error.
 * - Writes are batched per RPC message by FrameBatcher (see frame-batcher.ts), so each
 *   request and each response crosses SSH as one packet instead of stalling on Nagle.
 * - When the inner stream closes (daemon exited, SSH connection lost) this one is
 *   destroyed rather than half-closed: node's JSStreamSocket (which http2 wraps around
 *   non-socket streams) asserts if HTTP/2 writes a GOAWAY while a half-close is pending.
 */
import { Duplex } from 'node:stream';
import { FrameBatcher } from './frame-batcher.js';

/** Call `fn` once, on whichever of two events comes first. */
function whenEither(stream: Duplex, a: string, b: string, fn: () => void): void {
  const done = (): void => {
    stream.off(a, done);
    stream.off(b, done);
    fn();
  };
  stream.once(a, done);
  stream.once(b, done);
}

/** The client connection preface ("PRI * HTTP/2.0…"), which precedes the first frame. */
export const CLIENT_PREFACE_BYTES = 24;

export class TunnelStream extends Duplex {
  private inner: Duplex | undefined;
  private readonly opened: Promise<Duplex | undefined>;
  private readonly batcher: FrameBatcher;
  private held: Buffer[] = [];

  /** @param prefaceBytes 24 on the client side (it sends the preface), 0 on the server side */
  constructor(open: () => Promise<Duplex>, prefaceBytes: number) {
    super({ allowHalfOpen: false });
    this.batcher = new FrameBatcher((data) => this.send(data), prefaceBytes);
    this.opened = open().then(
      (inner) => {
        if (this.destroyed) {
          inner.destroy();
          return undefined;
        }
        this.attach(inner);
        return inner;
      },
      (err: unknown) => {
        this.destroy(err instanceof Error ? err : new Error(String(err)));
        return undefined;
      },
    );
  }

  private attach(inner: Duplex): void {
    this.inner = inner;
    inner.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (err: Error) => this.destroy(err));
    inner.on('close', () => this.destroy());
    for (const data of this.held) inner.write(data);
    this.held = [];
  }

  private send(data: Buffer): void {
    if (this.inner === undefined) this.held.push(data);
    else if (!this.inner.destroyed) this.inner.write(data);
  }

  override _read(): void {
    this.inner?.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.batcher.push(chunk);
    // Accept at once (HTTP/2 allows one outstanding write on this kind of stream), but
    // respect the inner stream's backpressure.
    const inner = this.inner;
    if (inner?.writableNeedDrain && !inner.destroyed) whenEither(inner, 'drain', 'close', () => callback());
    else callback();
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.batcher.flush();
    // Report the half-close done at once and end the inner stream in the background: a
    // shutdown still pending when HTTP/2 writes its GOAWAY trips an assertion in node's
    // JSStreamSocket, and a dead channel may never confirm the end.
    callback();
    void this.opened.then((inner) => {
      if (inner && !inner.destroyed) inner.end();
    });
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.batcher.destroy();
    this.inner?.destroy();
    callback(err);
  }
}
