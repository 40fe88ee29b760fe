/**
 * GET /api/v1/events: session events as Server-Sent Events, from the event log, so a
 * client that reconnects with Last-Event-ID (or ?after=N) misses nothing. With ?feed=1
 * (the dashboard) the stream also carries the live feed (live-feed.ts): those messages
 * have no id, and every (re)connect starts with a full `sessions` snapshot.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventRecord, EventRepo } from '../store/events.js';
import type { Send } from './live-feed.js';

const POLL_MS = 250;

/** beforeEvent says whether the event belongs to the viewer's sessions. */
export type OpenFeed = (send: Send) => Promise<{ beforeEvent(e: EventRecord): boolean; close(): void }>;

export async function serveEvents(events: EventRepo, req: IncomingMessage, res: ServerResponse, url: URL, openFeed?: OpenFeed): Promise<void> {
  const fromHeader = Number(req.headers['last-event-id']);
  const fromQuery = Number(url.searchParams.get('after'));
  // A new subscriber without a position starts at "now".
  let last = Number.isFinite(fromHeader) && req.headers['last-event-id'] !== undefined
    ? fromHeader
    : url.searchParams.has('after') && Number.isFinite(fromQuery) ? fromQuery : events.lastId();
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
  res.write(`retry: 1000\n: ennio events after ${last}\n\n`);
  const send: Send = (event, data) => void (res.writableEnded || res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
  let closed = false;
  res.on('close', () => (closed = true));
  const feed = openFeed ? await openFeed(send) : undefined;
  if (closed) {
    feed?.close();
    return;
  }
  return new Promise((resolve) => {
    let beats = 0;
    const timer = setInterval(() => {
      for (const e of events.after(last)) {
        if (!feed || feed.beforeEvent(e)) res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
        last = e.id;
      }
      // A comment every ~15 s keeps proxies and idle timers from closing the stream.
      if (++beats % 60 === 0) res.write(': keep-alive\n\n');
    }, POLL_MS);
    res.on('close', () => {
      clearInterval(timer);
      feed?.close();
      resolve();
    });
  });
}
