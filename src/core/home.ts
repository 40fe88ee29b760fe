/** Where ennio keeps its state, and where the orchestrator of that state listens. Light on purpose: the thin CLI loads it. */
import { createHash } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** $ENNIO_HOME, default ~/.ennio. */
export function ennioHome(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const home = env['ENNIO_HOME'];
  return home ? resolve(home) : join(homedir(), '.ennio');
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
  return join(tmpdir(), `ennio-${uid}`, `${createHash('sha256').update(home).digest('hex').slice(0, 16)}.sock`);
}

export const serverFiles = (home: string): { lock: string; state: string; log: string } => ({
  lock: join(home, 'server.lock'),
  state: join(home, 'server.json'),
  log: join(home, 'logs', 'server.log'),
});
