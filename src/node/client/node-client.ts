/**
 * NodeClient: the typed EnnioNode RPCs over a TunnelTransport, with every failure turned
 * into an EnnioError (see errors.ts). It knows nothing about deploying or SSH; RemoteNode
 * (remote-node.ts, with daemon-lifecycle.ts) adds health checks, re-deploys and retries on top.
 */
import { Code, ConnectError, createClient, type CallOptions, type Client } from '@connectrpc/connect';
import { EnnioNode, type HeartbeatResponse, type ProtoRuntimeHandle } from '../gen/ennio_node_pb.js';
import type { ActivityAsk } from '../../activity/probe.js';
import type { RuntimeHandle, RuntimeStatus } from '../../strategies/types.js';
import type { Liveness } from '../../ops/tmux.js';
import { EnnioError } from '../../core/errors.js';
import { fromRpcError } from './errors.js';
import { activityRequests, statusFromProto } from './list-runtimes.js';
import { TunnelTransport, type Dial } from './transport.js';

export interface HeartbeatInfo {
  healthy: boolean;
  uptimeSecs: number;
  version: string;
  buildId: string;
  runtimes: number;
  pid: number;
  workspaceRoot: string;
  idleTimeoutSecs: number;
  rssBytes: number;
  /** Why healthy is false. */
  detail: string;
}

export interface CreateWorkspaceInput {
  projectId: string;
  sessionId: string;
  type: 'worktree' | 'clone';
  /** The repository on the remote host (worktree; cloned from repoUrl when missing). */
  path: string;
  repoUrl?: string;
  defaultBranch: string;
  /** Default: ennio/<sessionId>. */
  branch?: string;
  reuseBranch?: boolean;
}

export interface CreateRuntimeInput {
  sessionId: string;
  /** tmux session name. */
  name: string;
  /** A shell command line (run with sh -c on the remote). */
  launchCommand: string;
  env: Record<string, string>;
  cwd: string;
}

/** Handles per ListRuntimes call (the daemon's limit is 10 000). */
const LIST_CHUNK = 5000;

/** Deadlines: quick calls fail fast on a hung tunnel; clones may take minutes. */
export const TIMEOUTS = { quick: 30_000, heartbeat: 10_000, workspace: 15 * 60_000 } as const;

export function toProtoHandle(h: RuntimeHandle): Pick<ProtoRuntimeHandle, 'id' | 'runtimeName' | 'data'> {
  return { id: h.id, runtimeName: h.runtimeName, data: { ...h.data } };
}

function heartbeatInfo(r: HeartbeatResponse): HeartbeatInfo {
  return {
    healthy: r.healthy,
    uptimeSecs: Number(r.uptimeSecs),
    version: r.version,
    buildId: r.buildId,
    runtimes: r.runtimes,
    pid: r.pid,
    workspaceRoot: r.workspaceRoot,
    idleTimeoutSecs: r.idleTimeoutSecs,
    rssBytes: Number(r.rssBytes),
    detail: r.detail,
  };
}

export interface NodeClientOptions {
  dial: Dial;
  /** Bearer token (a getter, so a token adopted later applies to the warm session). */
  token: () => string | undefined;
  /** For messages, e.g. "deploy@build:22 port 9100". */
  label: string;
}

export class NodeClient {
  readonly label: string;
  readonly tunnel: TunnelTransport;
  readonly raw: Client<typeof EnnioNode>;

  constructor(options: NodeClientOptions) {
    this.label = options.label;
    this.tunnel = new TunnelTransport({ dial: options.dial, token: options.token });
    this.raw = createClient(EnnioNode, this.tunnel.transport);
  }

  private async rpc<T>(what: string, call: (opts: CallOptions) => Promise<T>, timeoutMs: number = TIMEOUTS.quick): Promise<T> {
    const dialFailures = this.tunnel.dialFailures;
    try {
      return await call({ timeoutMs });
    } catch (err) {
      if (this.tunnel.dialFailures > dialFailures) {
        // The tunnel could not be opened: nothing listens on the port (or sshd refused).
        const why = this.tunnel.lastDialError?.message ?? 'the tunnel could not be opened';
        throw new EnnioError('NODE_UNAVAILABLE', `ennio-node on ${this.label} is not reachable (${what}): ${why}`, { cause: err });
      }
      throw fromRpcError(err, what, this.label);
    }
  }

  async heartbeat(timeoutMs: number = TIMEOUTS.heartbeat): Promise<HeartbeatInfo> {
    return heartbeatInfo(await this.rpc('Heartbeat', (o) => this.raw.heartbeat({}, o), timeoutMs));
  }

  async createWorkspace(input: CreateWorkspaceInput): Promise<{ path: string; createdBranch: boolean }> {
    const res = await this.rpc(
      'CreateWorkspace',
      (o) =>
        this.raw.createWorkspace(
          {
            projectId: input.projectId,
            sessionId: input.sessionId,
            workspaceType: input.type,
            path: input.path,
            repoUrl: input.repoUrl ?? '',
            defaultBranch: input.defaultBranch,
            reuseBranch: input.reuseBranch ?? false,
            ...(input.branch === undefined ? {} : { branch: input.branch }),
          },
          o,
        ),
      TIMEOUTS.workspace,
    );
    return { path: res.workspacePath, createdBranch: res.createdBranch };
  }

  async destroyWorkspace(workspacePath: string): Promise<void> {
    await this.rpc('DestroyWorkspace', (o) => this.raw.destroyWorkspace({ workspacePath }, o), TIMEOUTS.workspace);
  }

  async createRuntime(input: CreateRuntimeInput): Promise<RuntimeHandle> {
    const res = await this.rpc('CreateRuntime', (o) =>
      this.raw.createRuntime(
        { sessionId: input.sessionId, sessionName: input.name, launchCommand: input.launchCommand, env: input.env, cwd: input.cwd },
        o,
      ),
    );
    const h = res.handle;
    if (h === undefined) throw fromRpcError(new Error('CreateRuntime returned no handle'), 'CreateRuntime', this.label);
    return { id: h.id, runtimeName: h.runtimeName, data: { ...h.data } };
  }

  async destroyRuntime(handle: RuntimeHandle): Promise<void> {
    await this.rpc('DestroyRuntime', (o) => this.raw.destroyRuntime({ handle: toProtoHandle(handle) }, o));
  }

  async sendMessage(handle: RuntimeHandle, message: string): Promise<void> {
    await this.rpc('SendMessage', (o) => this.raw.sendMessage({ handle: toProtoHandle(handle), message }, o));
  }

  async getOutput(handle: RuntimeHandle, lines: number): Promise<string> {
    return (await this.rpc('GetOutput', (o) => this.raw.getOutput({ handle: toProtoHandle(handle), lines }, o))).output;
  }

  /** running / exited / missing (older daemons without the `state` field: from `alive`). */
  async liveness(handle: RuntimeHandle): Promise<Liveness> {
    const res = await this.rpc('IsAlive', (o) => this.raw.isAlive({ handle: toProtoHandle(handle) }, o));
    if (res.state === 'running' || res.state === 'exited' || res.state === 'missing') return res.state;
    return res.alive ? 'running' : 'missing';
  }

  /**
   * The status of many runtimes in one call (by handle id); undefined when the daemon is
   * older than ListRuntimes (UNIMPLEMENTED), so the caller can fall back to IsAlive.
   */
  async listRuntimes(handles: readonly RuntimeHandle[], activity?: ReadonlyMap<string, ActivityAsk>): Promise<Map<string, RuntimeStatus | Error> | undefined> {
    const out = new Map<string, RuntimeStatus | Error>();
    // The daemon takes at most 10 000 handles per call (list-runtimes.ts MAX_HANDLES).
    for (let from = 0; from < handles.length; from += LIST_CHUNK) {
      const chunk = handles.slice(from, from + LIST_CHUNK);
      const asks = activity ? activityRequests(chunk, activity) : [];
      let res;
      try {
        res = await this.rpc('ListRuntimes', (o) => this.raw.listRuntimes({ handles: chunk.map(toProtoHandle), activity: asks }, o));
      } catch (err) {
        if (err instanceof EnnioError && err.cause instanceof ConnectError && err.cause.code === Code.Unimplemented) return undefined;
        throw err;
      }
      const clock = { nowMs: Number(res.nowUnixMs), ...(res.uptimeSecs > 0 ? { uptimeS: res.uptimeSecs } : {}) };
      for (const entry of res.runtimes) out.set(entry.id, statusFromProto(entry, this.label, clock));
    }
    return out;
  }

  async shutdown(graceful: boolean): Promise<boolean> {
    return (await this.rpc('Shutdown', (o) => this.raw.shutdown({ graceful }, o))).accepted;
  }

  close(): void {
    this.tunnel.close();
  }
}
