/**
 * RemoteNode: the orchestrator's handle on the ennio-node of one SSH host and port. It
 * owns the lifecycle — health check before operations, deploy when no daemon answers,
 * upgrade when the daemon's build differs from our bundle, re-deploy after the daemon
 * idled out or was killed, token adoption — while NodeClient only moves calls.
 *
 * Warm path: when the HTTP/2 session over the SSH channel is open and the last health
 * check passed, an operation is exactly one RPC. A daemon that exits closes the channel,
 * which marks the node unverified, so the next operation checks (and re-deploys) first.
 *
 * Retries: a call whose tunnel could not even be opened never reached a daemon, so it is
 * retried once after ensure(); a call that failed mid-flight is retried only when it is
 * idempotent (reads, destroys), never CreateWorkspace/CreateRuntime/SendMessage.
 */
import { ConnectError, Code } from '@connectrpc/connect';
import type { NodeConfig } from '../../config/schema.js';
import { EnnioError, isEnnioError } from '../../core/errors.js';
import type { Liveness } from '../../ops/tmux.js';
import type { RuntimeHandle } from '../../strategies/types.js';
import { findBundle } from './bundle.js';
import { daemonAlive, ensureProgram, logTail, probe, signalDaemon, startRemote, type DeployTarget, type TunnelHost } from './deploy.js';
import { NodeClient, type CreateRuntimeInput, type CreateWorkspaceInput, type HeartbeatInfo } from './node-client.js';
import { TokenStore, generateToken } from './token-store.js';

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
  /** Progress lines ("deploying ennio-node to …"). */
  log?: (message: string) => void;
}

type Probe = { kind: 'ok'; hb: HeartbeatInfo } | { kind: 'down' } | { kind: 'busy'; err: EnnioError } | { kind: 'unauth'; err: EnnioError };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** How long a freshly started daemon may take to answer, and a stopping one to go. */
const START_LIMIT_MS = 15_000;
const STOP_LIMIT_MS = 10_000;
const POLL_MS = 50;

export class RemoteNode {
  readonly client: NodeClient;
  readonly target: DeployTarget;
  readonly key: string;
  /** Daemons this object started (deploys, re-deploys, upgrades). */
  deployments = 0;
  lastHeartbeat: HeartbeatInfo | undefined;
  private token: string | undefined;
  private verified = false;
  private ensuring: Promise<HeartbeatInfo> | undefined;
  private readonly tokens: TokenStore;
  private readonly log: (message: string) => void;

  constructor(private readonly options: RemoteNodeOptions) {
    const { host, node } = options;
    this.key = host.label;
    this.tokens = options.tokens ?? new TokenStore();
    this.log = options.log ?? (() => {});
    this.target = {
      host,
      port: node.port,
      idleTimeoutSecs: node.idle_timeout,
      remoteDir: options.remoteDir ?? '~/.ennio/node',
      bundle: () => findBundle(options.bundlePath),
      ...(node.workspace_root !== undefined ? { workspaceRoot: node.workspace_root } : {}),
      ...(node.ennio_binary_path !== undefined ? { binaryPath: node.ennio_binary_path } : {}),
      ...(options.tmuxSocket !== undefined ? { tmuxSocket: options.tmuxSocket } : {}),
    };
    this.token = node.auth_token ?? this.tokens.get(this.key);
    this.client = new NodeClient({
      dial: () => host.forwardOut('127.0.0.1', node.port),
      token: () => this.token,
      label: `${host.label} (ennio-node port ${node.port})`,
    });
    this.client.tunnel.onDisconnect = () => {
      this.verified = false;
    };
  }

  get label(): string {
    return this.client.label;
  }

  /** Health check; deploys, upgrades or re-deploys the daemon as needed. */
  async ensure(): Promise<HeartbeatInfo> {
    if (this.verified && this.client.tunnel.connected && this.lastHeartbeat) return this.lastHeartbeat;
    this.ensuring ??= this.connectOrDeploy()
      .then((hb) => {
        this.verified = true;
        this.lastHeartbeat = hb;
        return hb;
      })
      .finally(() => {
        this.ensuring = undefined;
      });
    return this.ensuring;
  }

  private async check(): Promise<Probe> {
    const before = this.client.tunnel.dialFailures;
    try {
      return { kind: 'ok', hb: await this.client.heartbeat() };
    } catch (err) {
      if (!isEnnioError(err)) throw err;
      if (err.cause instanceof ConnectError && err.cause.code === Code.Unauthenticated) return { kind: 'unauth', err };
      if (err.code === 'NODE_RPC') {
        // ennio-node answers Heartbeat or fails with a status; a protocol error means
        // another service owns the port (9100 is also node_exporter's default).
        throw new EnnioError('NODE_UNAVAILABLE', `port ${this.target.port} on ${this.target.host.label} answers, but not as ennio-node (${err.message})`, {
          cause: err,
          hint: 'set ssh_config.node_config.port to a free port on that host',
        });
      }
      if (err.code !== 'NODE_UNAVAILABLE') throw err;
      return this.client.tunnel.dialFailures > before ? { kind: 'down' } : { kind: 'busy', err };
    }
  }

  private async connectOrDeploy(): Promise<HeartbeatInfo> {
    let state = await this.check();
    if (state.kind === 'unauth') state = await this.recoverToken(state);
    if (state.kind === 'ok') {
      const hb = state.hb;
      if (!hb.healthy) throw new EnnioError('NODE_UNAVAILABLE', `ennio-node on ${this.label} is unhealthy: ${hb.detail}`);
      const wanted = this.wantedBuild();
      if (wanted === undefined || hb.buildId === wanted) return hb;
      this.log(`upgrading ennio-node on ${this.label} (running ${hb.version} ${hb.buildId.slice(0, 12)}, ours ${wanted.slice(0, 12)})`);
      await this.stop(true);
    } else if (state.kind === 'busy') {
      // Something answers but cannot serve (shutting down, hung): let it go first.
      await this.waitGone();
    }
    return this.deploy();
  }

  /** sha256 of the bundle we deploy; undefined with ennio_binary_path or when no bundle is at hand (then nothing is upgraded). */
  private wantedBuild(): string | undefined {
    if (this.target.binaryPath !== undefined) return undefined;
    try {
      return this.target.bundle().sha256;
    } catch (err) {
      if (isEnnioError(err, 'NODE_UNAVAILABLE')) return undefined; // deploy() will report the missing bundle if it must
      throw err;
    }
  }

  /** The daemon wants another token: adopt the remote's token file (or restart for a configured token). */
  private async recoverToken(state: Probe & { kind: 'unauth' }): Promise<Probe> {
    const remote = (await probe(this.target)).token;
    if (remote === undefined || remote === this.token) throw state.err;
    const previous = this.token;
    this.token = remote;
    const again = await this.check();
    if (again.kind !== 'ok') {
      this.token = previous;
      throw state.err;
    }
    const configured = this.options.node.auth_token;
    if (configured === undefined) {
      this.tokens.set(this.key, remote); // adopt: this remote user's daemons share one token
      return again;
    }
    this.log(`restarting ennio-node on ${this.label} with the configured auth_token`);
    await this.stop(true);
    this.token = configured;
    return { kind: 'down' };
  }

  private async deploy(): Promise<HeartbeatInfo> {
    const p = await probe(this.target);
    if (this.options.node.auth_token === undefined) {
      // The remote token file first (shared by every orchestrator of this remote user),
      // then ours, then a new one; kept locally so a restarted orchestrator reuses it.
      this.token = p.token ?? this.token ?? generateToken();
      this.tokens.set(this.key, this.token);
    } else {
      this.token = this.options.node.auth_token;
    }
    const program = await ensureProgram(this.target, p);
    this.log(`starting ennio-node on ${this.label}`);
    await startRemote(this.target, program, this.token);
    this.deployments++;
    return this.waitHealthy();
  }

  private async waitHealthy(): Promise<HeartbeatInfo> {
    const deadline = Date.now() + START_LIMIT_MS;
    for (let i = 1; ; i++) {
      const state = await this.check();
      if (state.kind === 'ok') {
        if (state.hb.healthy) return state.hb;
        throw new EnnioError('NODE_UNAVAILABLE', `ennio-node on ${this.label} started but is unhealthy: ${state.hb.detail}`);
      }
      if (state.kind === 'unauth') throw state.err;
      // Every second: did it die (port taken, bad flags)? Then say why instead of waiting on.
      if (i % 20 === 0 && !(await daemonAlive(this.target))) throw await this.startFailure('exited right after starting');
      if (Date.now() > deadline) throw await this.startFailure(`did not answer within ${START_LIMIT_MS / 1000} s`);
      await sleep(POLL_MS);
    }
  }

  private async startFailure(what: string): Promise<EnnioError> {
    const tail = await logTail(this.target);
    const dial = this.client.tunnel.lastDialError?.message;
    return new EnnioError('NODE_UNAVAILABLE', `ennio-node on ${this.label} ${what}${dial ? ` (tunnel: ${dial})` : ''}${tail ? `:\n${tail}` : ''}`, {
      hint: 'check that sshd allows TCP forwarding (AllowTcpForwarding) and that the port is free on the remote host',
    });
  }

  /** Ask the daemon to stop and wait until its port is closed (SIGTERM/SIGKILL by pid file as a fallback). */
  async stop(graceful: boolean): Promise<boolean> {
    let accepted = false;
    try {
      accepted = await this.client.shutdown(graceful);
    } catch (err) {
      if (!isEnnioError(err, 'NODE_UNAVAILABLE')) throw err;
    }
    this.verified = false;
    await this.waitGone();
    return accepted;
  }

  private async waitGone(): Promise<boolean> {
    for (const signal of [undefined, 'TERM', 'KILL'] as const) {
      if (signal !== undefined) await signalDaemon(this.target, signal);
      const deadline = Date.now() + STOP_LIMIT_MS;
      while (Date.now() < deadline) {
        if ((await this.check()).kind === 'down') return true;
        await sleep(POLL_MS);
      }
    }
    throw new EnnioError('NODE_UNAVAILABLE', `ennio-node on ${this.label} does not stop`);
  }

  /** Run an RPC after a health check; retry once when safe (see the file comment). */
  private async call<T>(fn: () => Promise<T>, idempotent: boolean): Promise<T> {
    await this.ensure();
    const before = this.client.tunnel.dialFailures;
    try {
      return await fn();
    } catch (err) {
      if (!isEnnioError(err, 'NODE_UNAVAILABLE')) throw err;
      this.verified = false;
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

  /** Heartbeat without deploying anything (for `ennio node status`). */
  async status(): Promise<{ reachable: true; heartbeat: HeartbeatInfo; current: boolean } | { reachable: false; reason: string }> {
    let state: Probe;
    try {
      state = await this.check();
    } catch (err) {
      if (!isEnnioError(err)) throw err;
      return { reachable: false, reason: err.message };
    }
    if (state.kind === 'ok') {
      const wanted = this.wantedBuild();
      return { reachable: true, heartbeat: state.hb, current: wanted === undefined || state.hb.buildId === wanted };
    }
    if (state.kind === 'down') return { reachable: false, reason: `no daemon answers (${this.client.tunnel.lastDialError?.message ?? 'tunnel failed'})` };
    return { reachable: false, reason: state.err.message };
  }

  /** Close the HTTP/2 session and its SSH channel (the SSH connection is the registry's). */
  close(): void {
    this.verified = false;
    this.client.close();
  }
}
