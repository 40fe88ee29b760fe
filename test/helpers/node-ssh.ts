/**
 * For node-over-SSH tests: a RemoteNode for a test sshd with everything isolated in a
 * temp dir (remote state dir, workspace root, ENNIO_HOME token store, tmux socket, a
 * free daemon port), and a cleanup that stops the daemons it started.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SshHost } from '../../src/host/ssh/ssh-host.js';
import { RemoteNode, type RemoteNodeOptions } from '../../src/node/client/remote-node.js';
import { TokenStore } from '../../src/node/client/token-store.js';
import { freePort } from './sshd.js';
import { Cleanup, isRunning, uniqueSocket } from './node-daemon.js';

export interface NodeEnv {
  dir: string;
  remoteDir: string;
  workspaceRoot: string;
  ennioHome: string;
  tmuxSocket: string;
  port: number;
}

export async function nodeEnv(cleanup: Cleanup, dir: string): Promise<NodeEnv> {
  const env: NodeEnv = {
    dir,
    remoteDir: join(dir, 'remote-ennio-node'),
    workspaceRoot: join(dir, 'workspaces'),
    ennioHome: join(dir, 'ennio-home'),
    tmuxSocket: cleanup.socket(uniqueSocket('nssh')),
    port: await freePort(),
  };
  // Whatever happens in the test, no daemon of this env outlives it.
  cleanup.add(() => killRecordedDaemon(env));
  return env;
}

export function daemonPid(env: NodeEnv): number | undefined {
  try {
    return Number(readFileSync(join(env.remoteDir, `daemon-${env.port}.pid`), 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** SIGTERM the daemon this env started (it detaches from tmux cleanly), SIGKILL after 5 s. */
export async function killRecordedDaemon(env: NodeEnv): Promise<void> {
  const pid = daemonPid(env);
  if (pid === undefined || !isRunning(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && isRunning(pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (isRunning(pid)) process.kill(pid, 'SIGKILL');
}

export function remoteNode(host: SshHost, env: NodeEnv, extra: Partial<RemoteNodeOptions> & { idleTimeout?: number; binaryPath?: string; token?: string } = {}): RemoteNode {
  const node = new RemoteNode({
    host,
    node: {
      port: env.port,
      idle_timeout: extra.idleTimeout ?? 600,
      workspace_root: env.workspaceRoot,
      ...(extra.binaryPath !== undefined ? { ennio_binary_path: extra.binaryPath } : {}),
      ...(extra.token !== undefined ? { auth_token: extra.token } : {}),
    },
    tokens: new TokenStore(env.ennioHome),
    remoteDir: env.remoteDir,
    tmuxSocket: env.tmuxSocket,
    ...extra,
  });
  return node;
}
