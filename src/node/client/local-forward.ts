/**
 * `ennio node connect --local-port N`: expose the daemon on this machine's 127.0.0.1 for
 * other tools (grpcurl, a debugger). Each accepted socket is piped into a fresh SSH
 * `forwardOut` channel to the daemon; nothing listens beyond loopback. Port 0 picks a
 * free port (reported back).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { EnnioError } from '../../core/errors.js';

export interface LocalForward {
  port: number;
  /** Sockets currently piped. */
  readonly connections: number;
  close(): Promise<void>;
}

export async function forwardLocalPort(dial: () => Promise<Duplex>, port = 0, onError?: (err: Error) => void): Promise<LocalForward> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.pause(); // hold the client's first bytes until the channel is open
    dial().then(
      (channel) => {
        channel.on('error', () => socket.destroy());
        socket.on('close', () => channel.destroy());
        channel.on('close', () => socket.destroy());
        socket.pipe(channel).pipe(socket);
        socket.resume();
      },
      (err: unknown) => {
        onError?.(err instanceof Error ? err : new Error(String(err)));
        socket.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new EnnioError('INVALID_ARGUMENT', `cannot listen on 127.0.0.1:${port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`)),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
