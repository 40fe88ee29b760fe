/**
 * The bearer token must only ever go to OUR daemon. The daemon listens on the remote's
 * 127.0.0.1:<port>, and on a multi-user host any other user could listen there first;
 * whoever owns that socket would receive the token with our first call. So every tunnel
 * is opened only after checking, over SSH, that the process listening on that port runs
 * as our remote user (deploy.ts `listenerOwner`, from /proc/net/tcp).
 *
 * Where /proc is missing (BSD, macOS) the check cannot be made: the tunnel is opened
 * anyway, with one warning per node. The check and the channel open are two steps, so a
 * listener swapped in between is not caught; that needs our daemon to exit and another
 * user to bind the port within that moment.
 */
import type { Duplex } from 'node:stream';
import { EnnioError } from '../../core/errors.js';
import { listenerOwner, type DeployTarget } from './deploy.js';

/** The daemon port is held by a process of another user: never send it anything. */
export class ForeignListenerError extends EnnioError {
  constructor(
    readonly label: string,
    readonly port: number,
    readonly uid: string,
  ) {
    super(
      'NODE_UNAVAILABLE',
      `port ${port} on ${label} (127.0.0.1) is held by a process of another user (uid ${uid}), not by our ennio-node: refusing to send the auth token there`,
      { hint: `set ssh_config.node_config.port to another free port on that host (e.g. ${port === 65535 ? port - 1 : port + 1})` },
    );
    this.name = 'ForeignListenerError';
  }
}

/** A dial that opens the SSH channel to the daemon port only after the owner check. */
export function guardedDial(target: DeployTarget, warn: (message: string) => void): () => Promise<Duplex> {
  let warned = false;
  return async () => {
    const owner = await listenerOwner(target);
    if (owner.kind === 'other') throw new ForeignListenerError(target.host.label, target.port, owner.uid);
    if (owner.kind === 'unknown' && !warned) {
      warned = true;
      warn(`cannot check who listens on port ${target.port} on ${target.host.label} (no /proc/net/tcp there); trusting that it is our ennio-node`);
    }
    return target.host.forwardOut('127.0.0.1', target.port);
  };
}
