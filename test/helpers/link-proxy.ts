/**
 * A TCP relay between ennio and a test sshd whose link can be cut and restored, to test
 * what a network cut does without network namespaces. A cut stops forwarding bytes both
 * ways without closing anything (as a pulled cable or a dropped route does): bytes wait
 * in the kernel's buffers. On restore, connections made during the cut carry on; the
 * ones from before it either carry on too (a short cut) or stay silent for good — what
 * a real TCP connection does for up to a minute or two after a long cut, while its
 * retransmissions back off.
 */
import { connect, createServer, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
  /** Existed before the current cut. */
  stale: boolean;
  /** Never forwards again. */
  silenced: boolean;
}

export interface LinkProxy {
  port: number;
  /** Stop forwarding on every connection, and on connections made until restore(). */
  cut(): void;
  /** Forward again; `stale: 'silent'` keeps connections made before the cut silent forever. */
  restore(options?: { stale?: 'resume' | 'silent' }): void;
  /**
   * Host down: drop every connection, and from now on close each new one at once (a
   * refused connection, counted in `accepted`) until admit().
   */
  refuse(): void;
  /** Forward new connections again after refuse(). */
  admit(): void;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startLinkProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<LinkProxy> {
  const pairs = new Set<Pair>();
  let isCut = false;
  let refusing = false;
  let accepted = 0;

  const hold = (p: Pair): void => {
    p.client.pause();
    p.upstream.pause();
  };
  const flow = (p: Pair): void => {
    if (p.silenced) return;
    p.client.resume();
    p.upstream.resume();
  };

  const server = createServer((client) => {
    accepted += 1;
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    const pair: Pair = { client, upstream, stale: false, silenced: false };
    pairs.add(pair);
    // Explicit writes instead of pipe(): pipe() resumes a paused source on 'drain'.
    client.on('data', (d: Buffer) => upstream.write(d));
    upstream.on('data', (d: Buffer) => client.write(d));
    const done = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', done);
    upstream.on('close', done);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    if (isCut) hold(pair);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  return {
    port,
    get accepted() {
      return accepted;
    },
    cut() {
      isCut = true;
      for (const p of pairs) {
        p.stale = true;
        hold(p);
      }
    },
    refuse() {
      refusing = true;
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
    },
    admit() {
      refusing = false;
    },
    restore(options = {}) {
      isCut = false;
      for (const p of pairs) {
        if (p.stale && options.stale === 'silent') p.silenced = true;
        p.stale = false;
        flow(p);
      }
    },
    close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
