/**
 * Write batching for HTTP/2 over SSH: "Nagle done right" for RPCs.
 *
 * A unary gRPC call is several small HTTP/2 frames written in separate ticks — request
 * HEADERS+DATA, then an empty DATA with END_STREAM; response HEADERS+DATA, then the
 * trailers. Sent one by one they become separate SSH packets, and a TCP sender with
 * Nagle on (sshd's sockets, which we cannot configure) holds each later one back until
 * the peer's delayed ACK: ~40 ms per call on loopback. Setting TCP_NODELAY only on our
 * own sockets does not remove the stall on sshd's side.
 *
 * So frames are held until a frame that ends a stream (END_STREAM on HEADERS or DATA)
 * or any control frame (SETTINGS, PING, WINDOW_UPDATE, RST_STREAM, GOAWAY…) arrives, then
 * written as ONE chunk: one SSH packet per request and per response. A 10 ms timer
 * flushes anything else (e.g. a long stream's intermediate DATA), so nothing waits long.
 */

const FRAME_HEADER = 9;
const TYPE_DATA = 0x0;
const TYPE_HEADERS = 0x1;
const TYPE_CONTINUATION = 0x9;
const FLAG_END_STREAM = 0x1;
/** Flush at once above this size (no point in holding big writes). */
const MAX_BUFFER = 64 * 1024;
const FLUSH_AFTER_MS = 10;

export class FrameBatcher {
  private chunks: Buffer[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Bytes of the current frame still to pass before the next frame header. */
  private inFrame = 0;
  /** A partial frame header split across writes. */
  private partial = Buffer.alloc(0);
  private skip: number;

  /**
   * @param sink writes one batch downstream
   * @param prefaceBytes bytes before the first frame (24 for a client's connection preface)
   */
  constructor(
    private readonly sink: (data: Buffer) => void,
    prefaceBytes = 0,
  ) {
    this.skip = prefaceBytes;
  }

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.scan(chunk) || this.size >= MAX_BUFFER) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_AFTER_MS);
  }

  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.size === 0) return;
    const data = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    this.size = 0;
    this.sink(data);
  }

  /** Walk frame headers in `chunk`; true when one of them asks for an immediate flush. */
  private scan(chunk: Buffer): boolean {
    let urgent = false;
    let pos = 0;
    while (pos < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - pos);
        this.skip -= n;
        pos += n;
        if (this.skip === 0) urgent = true; // the preface goes out with what follows
        continue;
      }
      if (this.inFrame > 0) {
        const n = Math.min(this.inFrame, chunk.length - pos);
        this.inFrame -= n;
        pos += n;
        continue;
      }
      const need = FRAME_HEADER - this.partial.length;
      const take = chunk.subarray(pos, pos + need);
      pos += take.length;
      const header = this.partial.length > 0 ? Buffer.concat([this.partial, take]) : take;
      if (header.length < FRAME_HEADER) {
        this.partial = Buffer.from(header);
        break;
      }
      this.partial = Buffer.alloc(0);
      this.inFrame = header.readUIntBE(0, 3);
      const type = header[3]!;
      const flags = header[4]!;
      const streamFrame = type === TYPE_DATA || type === TYPE_HEADERS || type === TYPE_CONTINUATION;
      if (!streamFrame || (flags & FLAG_END_STREAM) !== 0) urgent = true;
    }
    return urgent;
  }

  destroy(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.chunks = [];
    this.size = 0;
  }
}
