/**
 * gRPC's `grpc-message` is percent-encoded, and the spec (PROTOCOL-HTTP2.md) encodes
 * only bytes outside 0x20-0x7E plus '%'. Connect encodes with encodeURIComponent (also
 * ':' '/' ' ' …) — legal, but @grpc/grpc-js decodes with decodeURI, so its users would
 * read "refusing %2Fetc%3A …". Re-encoding the trailer the spec's way makes every client
 * show the message as written (Connect clients decode either form).
 */
import type * as http2 from 'node:http2';

export function grpcPercentEncode(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function reencode(headers: unknown): void {
  if (typeof headers !== 'object' || headers === null) return;
  const h = headers as Record<string, unknown>;
  const raw = h['grpc-message'];
  if (typeof raw !== 'string') return;
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return; // not something we encoded: leave it as it is
  }
  h['grpc-message'] = grpcPercentEncode(decoded);
}

type Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;

export function withSpecGrpcMessage(handler: Handler): Handler {
  return (req, res) => {
    const addTrailers = res.addTrailers.bind(res);
    res.addTrailers = (headers) => {
      reencode(headers);
      addTrailers(headers);
    };
    // Trailers-only responses carry grpc-message in the headers.
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => http2.Http2ServerResponse;
    res.writeHead = ((...args: unknown[]) => {
      for (const a of args) reencode(a);
      return writeHead(...args);
    }) as typeof res.writeHead;
    handler(req, res);
  };
}
