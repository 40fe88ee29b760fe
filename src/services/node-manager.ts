/**
 * `ennio node list|status|connect|disconnect`: the node projects of the config and their
 * daemons. Thin over RemoteNode (src/node/client) — status never deploys; connect does.
 */
import type { EnnioConfig, ProjectConfig, SshConfig } from '../config/schema.js';
import { EnnioError } from '../core/errors.js';
import { sshHostForConfig } from '../host/ssh/registry.js';
import type { SshHost } from '../host/ssh/ssh-host.js';
import { forwardLocalPort, type LocalForward } from '../node/client/local-forward.js';
import type { HeartbeatInfo } from '../node/client/node-client.js';
import type { RemoteNode } from '../node/client/remote-node.js';
import { ennioHome } from '../node/client/token-store.js';
import { nodeSettings, remoteNodeFor } from '../strategies/node.js';

export interface NodeProject {
  project: string;
  /** ssh_config.host (alias or name) and port as written (port may come from ~/.ssh/config). */
  host: string;
  sshPort: number | undefined;
  /** Daemon port on the remote 127.0.0.1. */
  port: number;
  idleTimeoutSecs: number;
  workspaceRoot: string;
  /** 'upload' (ennio deploys its bundle) or the configured ennio_binary_path. */
  binary: string;
  token: 'configured' | 'generated';
}

export type NodeStatus =
  | { project: string; target: string; reachable: true; current: boolean; heartbeat: HeartbeatInfo }
  | { project: string; target: string; reachable: false; reason: string };

export interface ConnectResult {
  project: string;
  target: string;
  heartbeat: HeartbeatInfo;
  /** Whether this call started (or upgraded) the daemon. */
  deployed: boolean;
  forward?: LocalForward;
}

type HostFor = (ssh: SshConfig) => Promise<SshHost>;

function nodeProjects(config: EnnioConfig): Array<ProjectConfig & { ssh_config: SshConfig }> {
  return config.projects.filter((p): p is ProjectConfig & { ssh_config: SshConfig } => p.ssh_config?.strategy === 'node');
}

export class NodeManager {
  constructor(
    private readonly config: EnnioConfig,
    private readonly home: string = ennioHome(),
    private readonly hostFor: HostFor = (ssh) => sshHostForConfig(ssh),
  ) {}

  list(): NodeProject[] {
    return nodeProjects(this.config).map((p) => {
      const node = nodeSettings(p.ssh_config);
      return {
        project: p.name,
        host: p.ssh_config.host,
        sshPort: p.ssh_config.port,
        port: node.port,
        idleTimeoutSecs: node.idle_timeout,
        workspaceRoot: node.workspace_root ?? '',
        binary: node.ennio_binary_path ?? 'upload',
        token: node.auth_token === undefined ? 'generated' : 'configured',
      };
    });
  }

  /** `target` is a project name or an ssh_config.host; several projects on one daemon answer once. */
  private select(target: string): Array<ProjectConfig & { ssh_config: SshConfig }> {
    const all = nodeProjects(this.config);
    const byName = all.filter((p) => p.name === target);
    const chosen = byName.length > 0 ? byName : all.filter((p) => p.ssh_config.host === target);
    if (chosen.length === 0) {
      const names = all.map((p) => p.name).join(', ') || 'none';
      throw new EnnioError('UNKNOWN_PROJECT', `no node project or host named ${JSON.stringify(target)} (node projects: ${names})`, {
        hint: 'node projects have ssh_config.strategy: node',
      });
    }
    return chosen;
  }

  private async nodeOf(p: ProjectConfig & { ssh_config: SshConfig }): Promise<RemoteNode> {
    return remoteNodeFor(p.ssh_config, await this.hostFor(p.ssh_config), this.home);
  }

  async status(target: string): Promise<NodeStatus[]> {
    const seen = new Set<RemoteNode>();
    const out: NodeStatus[] = [];
    for (const p of this.select(target)) {
      let node: RemoteNode;
      try {
        node = await this.nodeOf(p);
      } catch (err) {
        out.push({ project: p.name, target: p.ssh_config.host, reachable: false, reason: err instanceof Error ? err.message : String(err) });
        continue;
      }
      if (seen.has(node)) continue;
      seen.add(node);
      const s = await node.status();
      out.push({ project: p.name, target: node.label, ...s });
    }
    return out;
  }

  /** Deploy/upgrade as needed and check health; optionally expose the daemon on a local port. */
  async connect(project: string, options: { localPort?: number } = {}): Promise<ConnectResult> {
    const p = this.requireProject(project);
    const node = await this.nodeOf(p);
    const before = node.deployments;
    const heartbeat = await node.ensure();
    const result: ConnectResult = { project: p.name, target: node.label, heartbeat, deployed: node.deployments > before };
    if (options.localPort !== undefined) {
      const host = await this.hostFor(p.ssh_config);
      result.forward = await forwardLocalPort(() => host.forwardOut('127.0.0.1', nodeSettings(p.ssh_config).port), options.localPort);
    }
    return result;
  }

  /** Close this process's tunnel; with `shutdown`, stop the daemon (gracefully). */
  async disconnect(project: string, options: { shutdown?: boolean } = {}): Promise<{ project: string; target: string; stopped: boolean }> {
    const p = this.requireProject(project);
    const node = await this.nodeOf(p);
    let stopped = false;
    if (options.shutdown) {
      const s = await node.status();
      if (s.reachable) stopped = await node.stop(true);
    }
    node.close();
    return { project: p.name, target: node.label, stopped };
  }

  private requireProject(name: string): ProjectConfig & { ssh_config: SshConfig } {
    const p = nodeProjects(this.config).find((x) => x.name === name);
    if (p === undefined) {
      const any = this.config.projects.some((x) => x.name === name);
      throw new EnnioError(any ? 'INVALID_ARGUMENT' : 'UNKNOWN_PROJECT', any ? `project ${name} does not use strategy: node` : `unknown project ${name}`, {
        hint: any ? 'set ssh_config.strategy: node for it' : 'see ennio node list',
      });
    }
    return p;
  }
}
