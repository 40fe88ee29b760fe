/**
 * The CLI's reading of an orchestrator answer (NDJSON lines over the Unix socket), against a
 * real HTTP server that sends it in awkward pieces: lines cut mid-line and mid-character, a
 * large single-line result, progress lines before it, an error answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpApi, ServerBuildMismatch } from '../src/api/http-client.js';

let dir: string;
let server: Server;
let respond: (res: ServerResponse) => Promise<void>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ennio-answer-'));
  server = createServer((_req, res) => void respond(res));
  await new Promise<void>((resolve) => server.listen(join(dir, 's.sock'), resolve));
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/** Writes `bytes` in pieces of `size`, each flushed on its own. */
async function inPieces(res: ServerResponse, bytes: Buffer, size: number): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  for (let i = 0; i < bytes.length; i += size) {
    await new Promise<void>((resolve) => res.write(bytes.subarray(i, i + size), () => resolve()));
  }
  res.end();
}

const api = (progress: string[] = []): HttpApi =>
  new HttpApi({ socket: join(dir, 's.sock'), build: 'test', caller: { cwd: dir, env: {} }, onProgress: (t) => progress.push(t) });

describe('reading an answer', () => {
  it('ends a stream at its outcome line, and calls one cut short (the orchestrator went away) an error', async () => {
    const lines = [{ text: 'one\n' }, { notice: 'slow host' }, { text: 'two\n' }].map((l) => JSON.stringify(l)).join('\n');
    const texts: string[] = [];
    const notices: string[] = [];
    const follow = (): Promise<void> => api().follow('s', 10, (t) => texts.push(t), new AbortController().signal, (n) => notices.push(n));
    respond = (res) => inPieces(res, Buffer.from(`${lines}\n{"result":null}\n`), 5);
    await follow();
    expect(texts).toEqual(['one\n', 'two\n']);
    expect(notices).toEqual(['slow host']);
    respond = (res) => inPieces(res, Buffer.from(`${lines}\n`), 5);
    await expect(follow()).rejects.toMatchObject({ code: 'SERVER_UNAVAILABLE', message: 'the orchestrator closed the stream' });
    respond = (res) => inPieces(res, Buffer.from(`${JSON.stringify({ progress: 'waiting' })}\n`), 5);
    await expect(api().list()).rejects.toMatchObject({ code: 'SERVER_UNAVAILABLE', message: 'the orchestrator ended the answer early' });
  });

  it('is done at the outcome line, without waiting for the orchestrator to close the connection', async () => {
    let closed!: Promise<void>;
    respond = async (res) => {
      closed = new Promise((resolve) => res.once('close', () => resolve()));
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(`${JSON.stringify({ result: { sessions: [{ id: 'a' }], checked_at: 'now' } })}\n`); // and no end: a busy orchestrator
    };
    await expect(api().list()).resolves.toEqual({ sessions: [{ id: 'a' }], checked_at: 'now' });
    await closed; // the client hung up itself
    respond = async (res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(`${JSON.stringify({ error: { code: 'UNKNOWN_SESSION', message: 'no session x' } })}\n`);
    };
    await expect(api().info('x')).rejects.toMatchObject({ code: 'UNKNOWN_SESSION', message: 'no session x' });
    // An orchestrator of another build: the caller replaces it (hanging up is no error of its own).
    respond = async (res) => {
      res.writeHead(426, { 'content-type': 'application/json' });
      res.write('{"error":{"code":"SERVER_BUILD","message":"other build"}}');
    };
    await expect(api().list()).rejects.toBeInstanceOf(ServerBuildMismatch);
  });

  it('takes --json output the orchestrator rendered: exactly the bytes announced by the outcome line, in any pieces', async () => {
    const rendered = Buffer.from(`${JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ id: `s-${i}`, note: 'déjà ✓ 🚀' })), null, 2)}\n`, 'utf8');
    let header: string | string[] | undefined;
    for (const size of [5, 4096, 1 << 20]) {
      respond = async (res) => {
        await inPieces(res, Buffer.concat([Buffer.from(`${JSON.stringify({ progress: 'waiting' })}\n${JSON.stringify({ result: null, printed: rendered.length })}\n`), rendered]), size);
      };
      server.once('request', (req) => void (header = req.headers['x-ennio-print']));
      expect((await api().listPrinted()).equals(rendered)).toBe(true);
      expect(header).toBe('json');
    }
    // Fewer bytes than announced, then the connection closed: the orchestrator went away.
    respond = (res) => inPieces(res, Buffer.concat([Buffer.from(`${JSON.stringify({ result: null, printed: rendered.length })}\n`), rendered.subarray(0, 1000)]), 300);
    await expect(api().listPrinted()).rejects.toMatchObject({ code: 'SERVER_UNAVAILABLE', message: 'the orchestrator ended the answer early' });
  });

  it('stops a follow it aborts itself, quietly', async () => {
    const stop = new AbortController();
    const texts: string[] = [];
    respond = async (res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(`${JSON.stringify({ text: 'first\n' })}\n`); // then nothing more: a live follow
    };
    const following = api().follow('s', 10, (t) => {
      texts.push(t);
      stop.abort();
    }, stop.signal);
    await expect(following).resolves.toBeUndefined();
    expect(texts).toEqual(['first\n']);
  });

  it('puts lines cut anywhere (even inside a character) back together, progress first', async () => {
    const sessions = Array.from({ length: 3000 }, (_, i) => ({ id: `s-${i}`, note: `déjà vu ✓ 🚀 ${i}` }));
    const body = Buffer.from(`${JSON.stringify({ progress: 'waiting for höst…' })}\n${JSON.stringify({ result: { sessions } })}\n`, 'utf8');
    for (const size of [3, 7, 4096]) {
      respond = (res) => inPieces(res, body, size);
      const progress: string[] = [];
      const answer = await api(progress).list();
      expect(progress).toEqual(['waiting for höst…']);
      expect(answer.sessions).toEqual(sessions);
    }
  });

  it('takes a last line without a newline, and turns an error line into the error', async () => {
    respond = (res) => inPieces(res, Buffer.from(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no session “x”', hint: 'ennio status' } })), 5);
    await expect(api().info('x')).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'no session “x”', hint: 'ennio status' });
  });
});
