/**
 * TCP connections opened before ssh2 is even loaded (a prewarm, see warm-hint.ts): sshd
 * forks, re-executes itself and loads its host keys before it sends its banner (~40 ms
 * on loopback), which then overlaps with loading ssh2 (~60 ms) instead of following it.
 * connect.ts takes the socket for its first hop; the SSH handshake, host key check and
 * everything else run on it exactly as on a socket ssh2 opened itself. Light on purpose:
 * node:net only.
 */
import { connect, type Socket } from 'node:net';

interface Dialed {
  socket: Socket;
  /** Failed or closed before anyone took it: not handed out (a fresh dial reports the error properly). */
  broken: boolean;
}

const dialed = new Map<string, Dialed>();
const keyOf = (host: string, port: number): string => `${host}\0${port}`;

/** Start a TCP connection to host:port for a later takeDialed(); it keeps no process alive meanwhile. */
export function preDial(host: string, port: number): void {
  const key = keyOf(host, port);
  if (dialed.has(key)) return;
  const entry: Dialed = { socket: connect({ host, port }), broken: false };
  const broken = (): void => {
    entry.broken = true;
  };
  entry.socket.on('error', broken).once('close', broken).once('end', broken);
  entry.socket.unref();
  dialed.set(key, entry);
}

/** The pre-dialed socket to host:port, if there is a usable one (then it is the caller's). */
export function takeDialed(host: string, port: number): Socket | undefined {
  const key = keyOf(host, port);
  const entry = dialed.get(key);
  if (!entry) return undefined;
  dialed.delete(key);
  if (entry.broken || entry.socket.destroyed) {
    entry.socket.destroy();
    return undefined;
  }
  entry.socket.ref();
  return entry.socket;
}

/** Close the sockets nobody took. */
export function dropDialed(): void {
  for (const entry of dialed.values()) entry.socket.destroy();
  dialed.clear();
}
