/**
 * strategy: node — workspaces and the agent's tmux session are made by ennio-node on the
 * remote host, over gRPC through the SSH connection (src/node/client). The SshHost is
 * still the Backend's host: symlinks, post_create, deleting a branch and `ennio attach`
 * run over SSH as for the tmux strategy.
 */
import { posix } from 'node:path';
import type { NodeConfig, ProjectConfig, SshConfig } from '../config/schema.js';
import { nodeConfig } from '../config/schema.js';
import { EnnioError, isEnnioError } from '../core/errors.js';
import { attachArgv, attachOptions } from '../host/ssh/attach-argv.js';
import type { SshHost } from '../host/ssh/ssh-host.js';
import { deleteBranch, ensureRepo } from '../ops/git-workspace.js';
import { shellJoin } from '../ops/shell-quote.js';
import * as tmux from '../ops/tmux.js';
import { defaultNodeRegistry } from '../node/client/registry.js';
import type { RemoteNode } from '../node/client/remote-node.js';
import { TokenStore } from '../node/client/token-store.js';
import type { Backend, BatchSweeper, LaunchSpec, Runtime, RuntimeHandle, ScreenTarget, TerminalSize, TerminalStream, WorkspaceProvider } from './types.js';
import { openTmuxTerminal } from './tmux-terminal.js';
import { currentEnv } from '../core/request-env.js';
import { registerRemoteCloser } from './remote-closers.js';

/** The node settings of a project, with the schema's defaults and remote_dir's workspace root. */
export function nodeSettings(ssh: SshConfig): NodeConfig {
  const node = ssh.node_config ?? nodeConfig.parse({});
  return { ...node, workspace_root: node.workspace_root ?? `${ssh.remote_dir}/workspaces` };
}

/** The shared RemoteNode of a project's host (used by the backend and by `ennio node`). */
export function remoteNodeFor(ssh: SshConfig, host: SshHost, ennioHome: string): RemoteNode {
  const node = nodeSettings(ssh);
  const socket = currentEnv()['ENNIO_TMUX_SOCKET'];
  return defaultNodeRegistry.get(host, node, {
    tokens: new TokenStore(ennioHome),
    remoteDir: `${ssh.remote_dir}/node`,
    ...(socket ? { tmuxSocket: socket } : {}),
  });
}

export class NodeWorkspaces implements WorkspaceProvider {
  constructor(
    private readonly node: RemoteNode,
    private readonly host: SshHost,
  ) {}

  /**
   * The daemon places workspaces at <root>/<project>/<session>; the ids come from that
   * path. It only works from a repository that exists (it never clones into a place
   * outside its workspace root), so a project's missing repository is cloned over SSH
   * first — the same operation the tmux strategy runs.
   */
  async create(spec: Parameters<WorkspaceProvider['create']>[0]): ReturnType<WorkspaceProvider['create']> {
    if (spec.type === 'worktree') await ensureRepo(this.host, spec);
    const sessionId = posix.basename(spec.workspacePath);
    const projectId = posix.basename(posix.dirname(spec.workspacePath));
    const res = await this.node.createWorkspace({
      projectId,
      sessionId,
      type: spec.type,
      path: spec.repoPath,
      defaultBranch: spec.defaultBranch,
      branch: spec.branch,
      reuseBranch: spec.reuseBranch ?? false,
      ...(spec.repoUrl !== undefined ? { repoUrl: spec.repoUrl } : {}),
    });
    if (res.path !== spec.workspacePath) {
      // Only if the daemon's root changed between workspaceRoot() and create().
      throw new EnnioError('NODE_RPC', `ennio-node created ${res.path}, expected ${spec.workspacePath}`);
    }
    return res;
  }

  remove(spec: Parameters<WorkspaceProvider['remove']>[0]): Promise<void> {
    return this.node.destroyWorkspace(spec.workspacePath);
  }

  /** No RPC deletes branches; git over SSH does it (the same op the tmux strategy uses). */
  deleteBranch(repoPath: string, branch: string): Promise<void> {
    return deleteBranch(this.host, repoPath, branch);
  }

  async workspaceRoot(project: string): Promise<string> {
    return posix.join((await this.node.ensure()).workspaceRoot, project);
  }
}

/** The tmux server the daemon runs a session's agent in. */
function daemonTmux(handle: RuntimeHandle): tmux.TmuxServer {
  const socket = handle.data['tmux_socket'];
  return socket ? { socket } : {};
}

export class NodeRuntime implements Runtime {
  readonly name = 'tmux';
  /** One ListRuntimes call per node and sweep, whatever the number of sessions. */
  readonly sweeper: BatchSweeper;

  constructor(
    private readonly node: RemoteNode,
    private readonly host: SshHost,
    private readonly ennioHome: string,
  ) {
    this.sweeper = {
      kind: 'batch',
      label: node.label,
      keyOf: () => node.label,
      // The activity tracker's asks ride along: the daemon reads hook events and screens on its host.
      check: (handles, activity) => node.runtimeStates(handles, activity),
    };
  }

  create(spec: LaunchSpec): Promise<RuntimeHandle> {
    // The protocol's launch_command is a shell command line (run with sh -c).
    return this.node.createRuntime({ sessionId: spec.sessionId, name: spec.name, launchCommand: shellJoin(spec.command), env: spec.env, cwd: spec.cwd });
  }

  /** The daemon names the tmux session as asked (the session id), on its own tmux server. */
  handleFor(sessionId: string): Promise<RuntimeHandle | undefined> {
    return Promise.resolve({ id: sessionId, runtimeName: this.name, data: {} });
  }

  destroy(handle: RuntimeHandle): Promise<void> {
    return this.node.destroyRuntime(handle);
  }

  async send(handle: RuntimeHandle, message: string): Promise<void> {
    // One RPC: the daemon's send says itself when the session is gone or its agent exited
    // (tmux drops keys for a dead pane); the same words as the tmux strategy then.
    try {
      await this.node.sendMessage(handle, message);
    } catch (err) {
      if (isEnnioError(err, 'UNKNOWN_SESSION')) throw tmux.notRunning(handle.id, 'missing');
      if (isEnnioError(err, 'SESSION_STATE')) throw tmux.notRunning(handle.id, 'exited');
      throw err;
    }
  }

  output(handle: RuntimeHandle, lines: number): Promise<string> {
    return this.node.getOutput(handle, lines);
  }

  liveness(handle: RuntimeHandle): Promise<tmux.Liveness> {
    return this.node.liveness(handle);
  }

  async info(): Promise<Record<string, string>> {
    const hb = await this.node.ensure();
    return { node: this.node.label, node_version: hb.version, node_pid: String(hb.pid) };
  }

  /**
   * The daemon's tmux pane. Its activity comes through ListRuntimes (the sweep's batched
   * call); only from a daemon that predates that is it probed over SSH like the tmux
   * strategy's (same user, same host).
   */
  screenTarget(handle: RuntimeHandle): ScreenTarget {
    return { server: daemonTmux(handle), session: handle.id };
  }

  attachArgv(handle: RuntimeHandle): Promise<string[]> {
    return Promise.resolve(attachArgv(this.host.target, [...tmux.tmuxBase(daemonTmux(handle)), 'attach-session', '-t', tmux.exactTarget(handle.id)], attachOptions(this.host.target, this.ennioHome)));
  }

  /** The daemon's version and uptime from a heartbeat that never deploys (like `ennio node status`). */
  async hostFacts(): Promise<Record<string, string>> {
    const st = await this.node.status();
    if (st.kind === 'running') return { node: 'running', node_version: st.heartbeat.version, node_uptime_s: String(st.heartbeat.uptimeSecs) };
    return { node: st.kind, ...(st.reason ? { node_detail: st.reason } : {}) };
  }

  /** The daemon's tmux session, streamed over SSH like the tmux strategy's (the daemon has no streaming RPC). */
  openTerminal(handle: RuntimeHandle, size: TerminalSize): Promise<TerminalStream> {
    return openTmuxTerminal(this.host, daemonTmux(handle), handle.id, size);
  }
}

export function createNodeBackend(project: ProjectConfig, ssh: SshConfig, host: SshHost, ennioHome: string): Promise<Backend> {
  if (ssh.node_config?.enabled === false) {
    return Promise.reject(
      new EnnioError('CONFIG_INVALID', `project ${project.name}: strategy node with node_config.enabled: false`, {
        hint: 'enable the node, or use strategy: tmux',
      }),
    );
  }
  const node = remoteNodeFor(ssh, host, ennioHome);
  return Promise.resolve({ kind: 'ssh:node', host, workspaces: new NodeWorkspaces(node, host), runtime: new NodeRuntime(node, host, ennioHome), dataDir: ssh.remote_dir });
}

/** Close every node tunnel (HTTP/2 session and SSH channel); daemons keep running. */
export async function closeAllNodeClients(): Promise<void> {
  defaultNodeRegistry.closeAll();
}
// closeAllRemote() closes them without importing this module when nothing loaded it.
registerRemoteCloser(closeAllNodeClients);
