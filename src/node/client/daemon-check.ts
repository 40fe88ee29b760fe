/**
 * One Heartbeat, read as what it says about the daemon port: our daemon answers (ok),
 * nothing listens (down), something answers but cannot serve (busy), or a daemon wants
 * another token (unauth). A failure that says nothing about the daemon — SSH itself, a
 * stranger's listener, another service on the port — is thrown instead, so it is never
 * taken for "no daemon" and answered with a deploy.
 */
import { ConnectError, Code } from '@connectrpc/connect';
import { EnnioError, isEnnioError, type ErrorCode } from '../../core/errors.js';
import type { DeployTarget } from './deploy.js';
import { ForeignListenerError } from './listener-guard.js';
import type { HeartbeatInfo, NodeClient } from './node-client.js';

export type DaemonCheck =
  | { kind: 'ok'; hb: HeartbeatInfo }
  | { kind: 'down' }
  | { kind: 'busy'; err: EnnioError }
  | { kind: 'unauth'; err: EnnioError };

/** SSH itself failed (connect, credentials, host key): nothing can be said about the daemon. */
const SSH_LEVEL = new Set<ErrorCode>(['SSH_CONNECT', 'SSH_AUTH', 'HOST_KEY_UNKNOWN', 'HOST_KEY_CHANGED', 'CONFIG_INVALID']);

export function isSshLevel(err: unknown): boolean {
  return isEnnioError(err) && SSH_LEVEL.has(err.code);
}

export async function checkDaemon(client: NodeClient, target: DeployTarget): Promise<DaemonCheck> {
  const before = client.tunnel.dialFailures;
  try {
    return { kind: 'ok', hb: await client.heartbeat() };
  } catch (err) {
    if (!isEnnioError(err)) throw err;
    const dialError = client.tunnel.dialFailures > before ? client.tunnel.lastDialError : undefined;
    // Not "no daemon": we could not even ask (SSH failed) or must not (a stranger's port).
    if (dialError !== undefined && (dialError instanceof ForeignListenerError || isSshLevel(dialError))) throw dialError;
    if (err.cause instanceof ConnectError && err.cause.code === Code.Unauthenticated) return { kind: 'unauth', err };
    if (err.code === 'NODE_RPC') {
      // ennio-node answers Heartbeat or fails with a status; a protocol error means
      // another service owns the port (9100 is also node_exporter's default).
      throw new EnnioError('NODE_UNAVAILABLE', `port ${target.port} on ${target.host.label} answers, but not as ennio-node (${err.message})`, {
        cause: err,
        hint: 'set ssh_config.node_config.port to a free port on that host',
      });
    }
    if (err.code !== 'NODE_UNAVAILABLE') throw err;
    return dialError !== undefined ? { kind: 'down' } : { kind: 'busy', err };
  }
}
