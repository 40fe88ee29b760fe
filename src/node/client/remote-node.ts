/**
 * RemoteNode: the orchestrator's handle on the ennio-node of one SSH host and port. Each
 * operation is one RPC on a daemon that DaemonLifecycle (daemon-lifecycle.ts) has made
 * sure answers, healthy, current and on our token; NodeClient only moves calls.
 *
 * Retries: a call whose tunnel could not even be opened never reached a daemon, so it is
 * retried once after ensure(); a call that failed mid-flight is retried only when it is
 * idempotent (reads, destroys), never CreateWorkspace/CreateRuntime/SendMessage.
 *
 * Every tunnel is opened only after checking that our remote user owns the listening
 * socket (listener-guard.ts): the token is never sent to another user's process.
 */
import type { Duplex } from 'node:stream';
import type { ActivityAsk } from '../../activity/probe.js';
import type { NodeConfig } from '../../config/schema.js';
import { isEnnioError } from '../../core/errors.js';
import { VERSION } from '../../core/version.js';
import type { Liveness } from '../../ops/tmux.js';
import type { RuntimeHandle, RuntimeStatus } from '../../strategies/types.js';
import { BuildPolicy } from './build-policy.js';
import { findBundle } from './bundle.js';
import { DaemonLifecycle } from './daemon-lifecycle.js';
import { DaemonToken } from './daemon-token.js';
import type { DeployTarget, TunnelHost } from './deploy.js';
import { guardedDial } from './listener-guard.js';
import { runtimeStates } from './list-runtimes.js';
import { NodeClient, type CreateRuntimeInput, type CreateWorkspaceInput, type HeartbeatInfo } from './node-client.js';
import { nodeStatus, type NodeStatusInfo } from './node-status.js';
import { TokenStore } from './token-store.js';

export { isSshLevel } from './daemon-check.js';
export type { NodeStatusInfo } from './node-status.js';

export interface RemoteNodeOptions {
  host: TunnelHost;
  node: Pick<NodeConfig, 'port' | 'idle_timeout' | 'workspace_root' | 'ennio_binary_path' | 'auth_token'>;
  tokens?: TokenStore;
  /** Remote state directory (default ~/.ennio/node). */
  remoteDir?: string;
  /** --tmux-socket for a daemon we start (tests). */
  tmuxSocket?: string;
  /** The local bundle to deploy (default: findBundle()). */
  bundlePath?: string;
  /** Progress lines ("starting ennio-node on …"). */
  log?: (message: string) => void;
  /** What the user must know (a fallback, a version mismatch); default: a line on stderr. */
  warn?: (message: string) => void;
  /**
   * The version a configured ennio_binary_path should report (default: this ennio's
   * version; 'dev', i.e. running from source, skips the check).
   */
  version?: string;
}

function deployTarget(options: RemoteNodeOptions): DeployTarget {
  const { host, node } = options;
  return {
    host,
    port: node.port,
    idleTimeoutSecs: node.idle_timeout,
    remoteDir: options.remoteDir ?? '~/.ennio/node',
    bundle: () => findBundle(options.bundlePath),
    ...(node.workspace_root !== undefined ? { workspaceRoot: node.workspace_root } : {}),
    ...(node.ennio_binary_path !== undefined ? { binaryPath: node.ennio_binary_path } : {}),
    ...(options.tmuxSocket !== undefined ? { tmuxSocket: options.tmuxSocket } : {}),
  };
}

export class RemoteNode {
  readonly client: NodeClient;
  readonly target: DeployTarget;
  readonly key: string;
  /** The build of a daemon that answered UNIMPLEMENTED to ListRuntimes. */
  private listUnsupportedBuild: string | undefined;
  private readonly policy: BuildPolicy;
  private readonly lifecycle: DaemonLifecycle;
  private readonly dialGuarded: () => Promise<Duplex>;

  constructor(options: RemoteNodeOptions) {
    const { host, node } = options;
    const log = options.log ?? (() => {});
    const warn = options.warn ?? ((m: string) => process.stderr.write(`warning: ${m}\n`));
    this.key = host.label;
    this.target = deployTarget(options);
    const token = new DaemonToken(this.key, node.auth_token, options.tokens ?? new TokenStore());
    this.dialGuarded = guardedDial(this.target, warn);
    this.client = new NodeClient({
      dial: this.dialGuarded,
      token: () => token.current,
      label: `${host.label} (ennio-node port ${node.port})`,
    });
    this.policy = new BuildPolicy(this.target, this.label, options.version ?? VERSION, warn);
    this.lifecycle = new DaemonLifecycle({ client: this.client, target: this.target, token, policy: this.policy, log, warn });
  }

  get label(): string {
    return this.client.label;
  }

  /** Daemons this object started (deploys, re-deploys, upgrades). */
  get deployments(): number {
    return this.lifecycle.deployments;
  }

  get lastHeartbeat(): HeartbeatInfo | undefined {
    return this.lifecycle.lastHeartbeat;
  }

  /** A new SSH channel to the daemon port, opened only after the listener owner check (for `connect --local-port`). */
  openTunnel(): Promise<Duplex> {
    return this.dialGuarded();
  }

  /** Health check; deploys, upgrades or re-deploys the daemon as needed. */
  ensure(): Promise<HeartbeatInfo> {
    return this.lifecycle.ensure();
  }

  /** Ask the daemon to stop and wait until its port is closed (SIGTERM/SIGKILL by pid file as a fallback). */
  stop(graceful: boolean): Promise<boolean> {
    return this.lifecycle.stop(graceful);
  }

  /** Heartbeat without deploying anything (for `ennio node status|list`). */
  status(): Promise<NodeStatusInfo> {
    return nodeStatus(this.client, this.target, this.policy);
  }

  /** Run an RPC after a health check; retry once when safe (see the file comment). */
  private async call<T>(fn: () => Promise<T>, idempotent: boolean): Promise<T> {
    await this.ensure();
    const before = this.client.tunnel.dialFailures;
    try {
      return await fn();
    } catch (err) {
      if (!isEnnioError(err, 'NODE_UNAVAILABLE')) throw err;
      this.lifecycle.invalidate();
      if (!idempotent && this.client.tunnel.dialFailures === before) throw err;
      await this.ensure();
      return fn();
    }
  }

  heartbeat(): Promise<HeartbeatInfo> {
    return this.call(() => this.client.heartbeat(), true);
  }
  createWorkspace(input: CreateWorkspaceInput): Promise<{ path: string; createdBranch: boolean }> {
    return this.call(() => this.client.createWorkspace(input), false);
  }
  destroyWorkspace(path: string): Promise<void> {
    return this.call(() => this.client.destroyWorkspace(path), true);
  }
  createRuntime(input: CreateRuntimeInput): Promise<RuntimeHandle> {
    return this.call(() => this.client.createRuntime(input), false);
  }
  destroyRuntime(handle: RuntimeHandle): Promise<void> {
    return this.call(() => this.client.destroyRuntime(handle), true);
  }
  sendMessage(handle: RuntimeHandle, message: string): Promise<void> {
    return this.call(() => this.client.sendMessage(handle, message), false);
  }
  getOutput(handle: RuntimeHandle, lines: number): Promise<string> {
    return this.call(() => this.client.getOutput(handle, lines), true);
  }
  liveness(handle: RuntimeHandle): Promise<Liveness> {
    return this.call(() => this.client.liveness(handle), true);
  }

  /**
   * The status of many runtimes: one ListRuntimes call, or IsAlive per runtime when the
   * daemon predates it (remembered per daemon build, so an old daemon is not asked again).
   */
  runtimeStates(handles: readonly RuntimeHandle[], activity?: ReadonlyMap<string, ActivityAsk>): Promise<Map<string, RuntimeStatus | Error>> {
    return this.call(
      () =>
        runtimeStates(
          {
            listRuntimes: async (hs, asks) => {
              const build = this.lastHeartbeat?.buildId;
              if (build !== undefined && build === this.listUnsupportedBuild) return undefined;
              const res = await this.client.listRuntimes(hs, asks);
              if (res === undefined) this.listUnsupportedBuild = build;
              return res;
            },
            liveness: (h) => this.client.liveness(h),
          },
          handles,
          activity,
        ),
      true,
    );
  }

  /** Close the HTTP/2 session and its SSH channel (the SSH connection is the registry's). */
  close(): void {
    this.lifecycle.invalidate();
    this.client.close();
  }
}
