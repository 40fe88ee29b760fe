/** Where ennio keeps its state, and where the orchestrator of that state listens. Light on purpose: the thin CLI loads it. */
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** $ENNIO_HOME, default ~/.ennio. */
export function ennioHome(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const home = env['ENNIO_HOME'];
  return home ? resolve(home) : join(homedir(), '.ennio');
}

/**
 * A short stable name for a long path (FNV-1a, 64 bits): enough to tell one user's homes
 * apart, and the thin CLI need not load the crypto module for it.
 */
function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) hash = BigInt.asUintN(64, (hash ^ BigInt(byte)) * 0x100000001b3n);
  return hash.toString(16).padStart(16, '0');
}

/** Linux keeps Unix socket paths under 108 bytes. */
const MAX_SOCKET_PATH = 100;

/**
 * The orchestrator's Unix socket for a home. A home too deep for a socket path gets one
 * under a per-user 0700 directory in /tmp, named by a hash of the home.
 */
export function serverSocketPath(home: string): string {
  const direct = join(home, 'ennio.sock');
  if (direct.length <= MAX_SOCKET_PATH) return direct;
  const uid = process.getuid?.() ?? 0;
  return join(tmpdir(), `ennio-${uid}`, `${fnv1a64(home)}.sock`);
}

export const serverFiles = (home: string): { lock: string; state: string; log: string } => ({
  lock: join(home, 'server.lock'),
  state: join(home, 'server.json'),
  log: join(home, 'logs', 'server.log'),
});
