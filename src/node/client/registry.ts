/**
 * One RemoteNode (so one HTTP/2 session over one SSH channel) per SSH host and daemon
 * port, per process, shared by the node backend and `ennio node …`. Projects that reach
 * the same host through the same SshHost and use the same port share the daemon and its
 * settings (the first one's).
 *
 * Keyed by the SshHost object, not its user@host:port label: the SSH registry already
 * keeps projects with different credentials or host-key policies on different
 * connections, and a project must never ride on another's (a project whose key is
 * refused must see that, not the other project's working connection).
 */
import type { NodeConfig } from '../../config/schema.js';
import type { TunnelHost } from './deploy.js';
import { RemoteNode, type RemoteNodeOptions } from './remote-node.js';

export class RemoteNodeRegistry {
  private readonly nodes = new Map<TunnelHost, Map<number, RemoteNode>>();

  get(host: TunnelHost, node: RemoteNodeOptions['node'], options: Omit<RemoteNodeOptions, 'host' | 'node'> = {}): RemoteNode {
    let byPort = this.nodes.get(host);
    if (byPort === undefined) {
      byPort = new Map();
      this.nodes.set(host, byPort);
    }
    let existing = byPort.get(node.port);
    if (existing === undefined) {
      existing = new RemoteNode({ host, node, ...options });
      byPort.set(node.port, existing);
    }
    return existing;
  }

  /** Nodes this process has talked to. */
  list(): RemoteNode[] {
    return [...this.nodes.values()].flatMap((byPort) => [...byPort.values()]);
  }

  /** Close every HTTP/2 session (daemons keep running until their idle timeout). */
  closeAll(): void {
    for (const n of this.list()) n.close();
    this.nodes.clear();
  }
}

export const defaultNodeRegistry = new RemoteNodeRegistry();

export type { NodeConfig };
