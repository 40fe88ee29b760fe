/**
 * The dashboard's files (dist/web, built by scripts/build.mjs): read once, kept with a
 * gzip copy and an ETag, served with a strict Content-Security-Policy. No page holds a
 * secret: the pages are the same for everyone, data comes from the API.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { findDistFile } from '../core/dist-file.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Inline styles stay allowed: xterm.js sizes its rows with style attributes. */
export const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

interface WebFile {
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

export class WebFiles {
  private files: Map<string, WebFile> | undefined;

  constructor(private readonly dir: string | undefined = webDir()) {}

  private load(): Map<string, WebFile> {
    if (this.files) return this.files;
    const files = new Map<string, WebFile>();
    if (this.dir) {
      for (const name of readdirSync(this.dir, { recursive: true, encoding: 'utf8' })) {
        const type = TYPES[extname(name)];
        if (!type) continue;
        const body = readFileSync(join(this.dir, name));
        files.set(name.split('\\').join('/'), { type, body, gzip: gzipSync(body, { level: 9 }), etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"` });
      }
    }
    this.files = files;
    return files;
  }

  has(name: string): boolean {
    return this.load().has(name);
  }

  /** Answer with a file; false when there is no such file. */
  serve(req: IncomingMessage, res: ServerResponse, name: string, status = 200): boolean {
    const file = this.load().get(name);
    if (!file) return false;
    const headers: Record<string, string> = { ...PAGE_HEADERS, 'content-type': file.type, etag: file.etag, 'cache-control': 'no-cache', vary: 'accept-encoding' };
    if (req.headers['if-none-match'] === file.etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? file.gzip : file.body;
    res.writeHead(status, { ...headers, 'content-length': String(body.length), ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
}

function webDir(): string | undefined {
  const index = findDistFile('web/index.html');
  return index ? dirname(index) : undefined;
}
