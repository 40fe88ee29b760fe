/**
 * One RemoteNode (so one HTTP/2 session over one SSH channel) per SSH target and daemon
 * port, per process, shared by the node backend and `ennio node …`. Projects that point
 * at the same host and port share the daemon and its settings (the first one's).
 */
import type { NodeConfig } from '../../config/schema.js';
import type { TunnelHost } from './deploy.js';
import { RemoteNode, type RemoteNodeOptions } from './remote-node.js';

export class RemoteNodeRegistry {
  private readonly nodes = new Map<string, RemoteNode>();

  get(host: TunnelHost, node: RemoteNodeOptions['node'], options: Omit<RemoteNodeOptions, 'host' | 'node'> = {}): RemoteNode {
    const key = `${host.label}#${node.port}`;
    let existing = this.nodes.get(key);
    if (existing === undefined) {
      existing = new RemoteNode({ host, node, ...options });
      this.nodes.set(key, existing);
    }
    return existing;
  }

  /** Nodes this process has talked to. */
  list(): RemoteNode[] {
    return [...this.nodes.values()];
  }

  /** Close every HTTP/2 session (daemons keep running until their idle timeout). */
  closeAll(): void {
    for (const n of this.nodes.values()) n.close();
    this.nodes.clear();
  }
}

export const defaultNodeRegistry = new RemoteNodeRegistry();

export type { NodeConfig };
