/**
 * `ennio node list|status|connect|disconnect`: the node projects of the config and their
 * daemons. Thin over RemoteNode (src/node/client) — list and status never deploy; connect
 * does. list asks every daemon at once, each with a short deadline, so one unreachable
 * host costs the listing a few seconds at most.
 */
import type { EnnioConfig, ProjectConfig, SshConfig } from '../config/schema.js';
import { EnnioError } from '../core/errors.js';
import { sshHostForConfig } from '../host/ssh/registry.js';
import type { SshHost } from '../host/ssh/ssh-host.js';
import { forwardLocalPort, type LocalForward } from '../node/client/local-forward.js';
import type { HeartbeatInfo } from '../node/client/node-client.js';
import { isSshLevel, type NodeStatusInfo, type RemoteNode } from '../node/client/remote-node.js';
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

/** One daemon's state: `kind` for programs, `state` for people ("running (healthy)", "not running", "ssh unreachable: …"). */
export type NodeStatus = { project: string; target: string; state: string } & NodeStatusInfo;

export type NodeListRow = NodeProject & { kind: NodeStatusInfo['kind']; state: string };

/** How long `ennio node list` waits for each daemon's state. */
export const LIST_TIMEOUT_MS = 10_000;

/** The human form of a status, as `ennio node list|status` print it. */
export function describeStatus(s: NodeStatusInfo): string {
  switch (s.kind) {
    case 'running': {
      const hb: HeartbeatInfo = s.heartbeat;
      if (!hb.healthy) return `running (unhealthy: ${hb.detail})`;
      if (s.current) return 'running (healthy)';
      return `running (healthy, outdated${s.note ? `: ${s.note}` : ''})`;
    }
    case 'not-running':
      return 'not running';
    case 'ssh-unreachable':
      return `ssh unreachable: ${s.reason}`;
    case 'refused':
      return `refused: ${s.reason}`;
    case 'unknown':
      return `unknown: ${s.reason}`;
    case 'error':
      return `error: ${s.reason}`;
  }
}

/** A failure before or instead of a status (resolving the SSH config, a bug), as a status. */
function failureStatus(err: unknown): NodeStatusInfo {
  const reason = err instanceof Error ? err.message : String(err);
  return { kind: isSshLevel(err) ? 'ssh-unreachable' : 'error', reachable: false, reason };
}

/** `status` settled within `ms`, else an 'unknown' state; never rejects. */
async function statusWithin(status: Promise<NodeStatusInfo>, ms: number): Promise<NodeStatusInfo> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<NodeStatusInfo>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'unknown', reachable: false, reason: `no answer within ${ms / 1000} s` }), ms);
  });
  try {
    // A status that arrives after the deadline is dropped (its errors become a status too,
    // so nothing is left unhandled); the CLI closes the connection right after.
    return await Promise.race([status.catch(failureStatus), late]);
  } finally {
    clearTimeout(timer);
  }
}

export interface DisconnectResult {
  project: string;
  target: string;
  /** Whether a daemon was stopped (only with `shutdown`). */
  stopped: boolean;
  /** The daemon's idle timeout: without `shutdown` it keeps running until that long without calls. */
  idleTimeoutSecs: number;
}

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

  /** Every node project with its daemon's state, asked in parallel (each within `timeoutMs`). */
  async listWithState(timeoutMs: number = LIST_TIMEOUT_MS): Promise<NodeListRow[]> {
    const rows = this.list();
    const asked = new Map<RemoteNode, Promise<NodeStatusInfo>>();
    const states = await Promise.all(
      nodeProjects(this.config).map((p) =>
        statusWithin(
          (async () => {
            const node = await this.nodeOf(p);
            // Projects sharing a daemon (same host and port) ask it once.
            let status = asked.get(node);
            if (status === undefined) {
              status = node.status();
              asked.set(node, status);
            }
            return status;
          })(),
          timeoutMs,
        ),
      ),
    );
    return rows.map((row, i) => {
      const s = states[i]!;
      return { ...row, kind: s.kind, state: describeStatus(s) };
    });
  }

  async status(target: string): Promise<NodeStatus[]> {
    const seen = new Set<RemoteNode>();
    const out: NodeStatus[] = [];
    for (const p of this.select(target)) {
      let node: RemoteNode;
      try {
        node = await this.nodeOf(p);
      } catch (err) {
        const s = failureStatus(err);
        out.push({ project: p.name, target: p.ssh_config.host, state: describeStatus(s), ...s });
        continue;
      }
      if (seen.has(node)) continue;
      seen.add(node);
      const s = await node.status();
      out.push({ project: p.name, target: node.label, state: describeStatus(s), ...s });
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
      // Through the same owner check as our own calls: never hand another user's port to a client.
      result.forward = await forwardLocalPort(() => node.openTunnel(), options.localPort);
    }
    return result;
  }

  /**
   * Close this process's tunnel; with `shutdown`, stop the daemon (gracefully). Without
   * it there is little to do: a tunnel only lives as long as the ennio process that opened
   * it, and the daemon keeps running until its idle timeout.
   */
  async disconnect(project: string, options: { shutdown?: boolean } = {}): Promise<DisconnectResult> {
    const p = this.requireProject(project);
    const node = await this.nodeOf(p);
    let stopped = false;
    if (options.shutdown) {
      const s = await node.status();
      if (s.reachable) stopped = await node.stop(true);
      // "Nothing was running" only when that is what we found, not when we could not look.
      else if (s.kind !== 'not-running') throw new EnnioError('NODE_UNAVAILABLE', `cannot stop ennio-node on ${node.label}: ${describeStatus(s)}`);
    }
    node.close();
    return { project: p.name, target: node.label, stopped, idleTimeoutSecs: nodeSettings(p.ssh_config).idle_timeout };
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
