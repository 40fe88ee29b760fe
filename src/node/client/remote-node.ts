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
 *
 * Several orchestrators (processes, machines) may share one remote user's daemon. Every
 * decision that changes the remote — deploy, upgrade, restart for a configured token — is
 * taken under the remote deploy lock (remote-scripts.ts LOCK), after checking again what
 * runs there; the token file is only ever created once (first writer wins) and read back
 * after starting. So concurrent first deploys end with one daemon whose token every
 * orchestrator adopts, never with a token file that does not match the running daemon.
 *
 * Every tunnel is opened only after checking that our remote user owns the listening
 * socket (listener-guard.ts): the token is never sent to another user's process.
 */
import type { Duplex } from 'node:stream';
import { ConnectError, Code } from '@connectrpc/connect';
import type { ActivityAsk } from '../../activity/probe.js';
import type { NodeConfig } from '../../config/schema.js';
import { EnnioError, isEnnioError, type ErrorCode } from '../../core/errors.js';
import { VERSION } from '../../core/version.js';
import type { Liveness } from '../../ops/tmux.js';
import type { RuntimeHandle, RuntimeStatus } from '../../strategies/types.js';
import { findBundle } from './bundle.js';
import { withDeployLock } from './deploy-lock.js';
import { daemonAlive, ensureProgram, logTail, probe, signalDaemon, startRemote, type DeployTarget, type TunnelHost } from './deploy.js';
import { ForeignListenerError, guardedDial } from './listener-guard.js';
import { runtimeStates } from './list-runtimes.js';
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

type Probe = { kind: 'ok'; hb: HeartbeatInfo } | { kind: 'down' } | { kind: 'busy'; err: EnnioError } | { kind: 'unauth'; err: EnnioError };

/** What `ennio node status|list` shows for one daemon (never deploys anything). */
export type NodeStatusInfo =
  | { kind: 'running'; reachable: true; heartbeat: HeartbeatInfo; current: boolean; note?: string }
  | { kind: 'not-running' | 'ssh-unreachable' | 'refused' | 'unknown' | 'error'; reachable: false; reason: string };

/** SSH itself failed (connect, credentials, host key): nothing can be said about the daemon. */
const SSH_LEVEL = new Set<ErrorCode>(['SSH_CONNECT', 'SSH_AUTH', 'HOST_KEY_UNKNOWN', 'HOST_KEY_CHANGED', 'CONFIG_INVALID']);

export function isSshLevel(err: unknown): boolean {
  return isEnnioError(err) && SSH_LEVEL.has(err.code);
}

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
  /** The build of a daemon that answered UNIMPLEMENTED to ListRuntimes. */
  private listUnsupportedBuild: string | undefined;
  /** With ennio_binary_path: we uploaded our bundle because the binary was missing. */
  private uploadedInstead = false;
  /** Build ids of a configured binary whose version mismatch was already reported. */
  private readonly versionReported = new Set<string>();
  private readonly tokens: TokenStore;
  private readonly log: (message: string) => void;
  private readonly warn: (message: string) => void;
  private readonly expectedVersion: string;
  private readonly dialGuarded: () => Promise<Duplex>;

  constructor(private readonly options: RemoteNodeOptions) {
    const { host, node } = options;
    this.key = host.label;
    this.tokens = options.tokens ?? new TokenStore();
    this.log = options.log ?? (() => {});
    this.warn = options.warn ?? ((m) => process.stderr.write(`warning: ${m}\n`));
    this.expectedVersion = options.version ?? VERSION;
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
    this.dialGuarded = guardedDial(this.target, this.warn);
    this.client = new NodeClient({
      dial: this.dialGuarded,
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

  /** A new SSH channel to the daemon port, opened only after the listener owner check (for `connect --local-port`). */
  openTunnel(): Promise<Duplex> {
    return this.dialGuarded();
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
      const dialError = this.client.tunnel.dialFailures > before ? this.client.tunnel.lastDialError : undefined;
      // Not "no daemon": we could not even ask (SSH failed) or must not (a stranger's port).
      if (dialError !== undefined && (dialError instanceof ForeignListenerError || isSshLevel(dialError))) throw dialError;
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
      return dialError !== undefined ? { kind: 'down' } : { kind: 'busy', err };
    }
  }

  private async connectOrDeploy(): Promise<HeartbeatInfo> {
    // The common case — our daemon answers, healthy and current — needs no lock.
    const first = await this.check();
    if (first.kind === 'ok' && first.hb.healthy && this.keepWithoutLook(first.hb)) return first.hb;
    // Anything else may change the remote: decide again under the lock, since another
    // orchestrator may be doing the same right now (or has just done it).
    return withDeployLock(this.target, { label: this.label, warn: this.warn }, () => this.converge());
  }

  private async converge(): Promise<HeartbeatInfo> {
    let state = await this.check();
    if (state.kind === 'unauth') state = await this.recoverToken(state);
    if (state.kind === 'ok') {
      const hb = state.hb;
      if (!hb.healthy) throw new EnnioError('NODE_UNAVAILABLE', `ennio-node on ${this.label} is unhealthy: ${hb.detail}`);
      const verdict = await this.verdict(hb);
      if (verdict.note !== undefined) this.reportOnce(hb, verdict.note);
      if (verdict.wanted === undefined || hb.buildId === verdict.wanted) return hb;
      this.log(`upgrading ennio-node on ${this.label} (running ${hb.version} ${hb.buildId.slice(0, 12)}, ours ${verdict.wanted.slice(0, 12)})`);
      await this.stop(true);
    } else if (state.kind === 'busy') {
      // Something answers but cannot serve (shutting down, hung): let it go first.
      await this.waitGone();
    }
    return this.deploy();
  }

  /** Whether a healthy daemon can be used as it is, without looking at the remote (no SSH round trip). */
  private keepWithoutLook(hb: HeartbeatInfo): boolean {
    if (this.target.binaryPath === undefined || this.uploadedInstead) {
      const wanted = this.bundleSha();
      return wanted === undefined || hb.buildId === wanted;
    }
    // A configured binary: a version mismatch needs a look (is it the binary, or an upload of ours?).
    return this.versionMatches(hb) || this.versionReported.has(hb.buildId);
  }

  private versionMatches(hb: HeartbeatInfo): boolean {
    return this.expectedVersion === 'dev' || hb.version === this.expectedVersion;
  }

  /**
   * Which build the daemon should run (`wanted`; undefined = keep whatever runs), and
   * what to tell the user. Our bundle is upgraded by build id. A configured
   * ennio_binary_path is not ours to replace: a version other than ours is reported.
   */
  private async verdict(hb: HeartbeatInfo): Promise<{ wanted?: string; note?: string }> {
    const sha = this.bundleSha();
    if (this.target.binaryPath === undefined) return sha === undefined ? {} : { wanted: sha };
    if (this.versionMatches(hb)) return {};
    // With a mismatch, find out whether the running daemon is the configured binary or
    // a bundle of ours uploaded because the binary was missing (that one we upgrade).
    const p = await probe(this.target);
    if (p.customBinary === undefined && sha !== undefined) return { wanted: sha };
    return { note: this.versionNote(hb) };
  }

  private versionNote(hb: HeartbeatInfo): string {
    return (
      `ennio-node on ${this.label} (node_config.ennio_binary_path ${this.target.binaryPath ?? ''}) reports version ${hb.version || '(none)'}, ` +
      `but this ennio is ${this.expectedVersion}. ennio does not upgrade a configured binary: install ennio-node ${this.expectedVersion} there, ` +
      'or remove ennio_binary_path to let ennio upload its own'
    );
  }

  private reportOnce(hb: HeartbeatInfo, note: string): void {
    if (this.versionReported.has(hb.buildId)) return;
    this.versionReported.add(hb.buildId);
    this.warn(note);
  }

  /** sha256 of the bundle we deploy; undefined when no bundle is at hand (then nothing is upgraded). */
  private bundleSha(): string | undefined {
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
    const configured = this.options.node.auth_token;
    // Offered for a token file that does not exist yet: the remote file first (shared by
    // every orchestrator of this remote user), then ours, then a new one.
    const offered = configured ?? p.token ?? this.token ?? generateToken();
    const program = await ensureProgram(this.target, p, this.warn);
    this.uploadedInstead = this.target.binaryPath !== undefined && program.style === 'bundle';
    this.log(`starting ennio-node on ${this.label}`);
    // The token the daemon really got is the file's content after the start script: a
    // concurrent deploy may have created the file first (then it is theirs, and ours too).
    const started = await startRemote(this.target, program, offered, configured === undefined ? 'create' : 'replace');
    this.token = started.token;
    if (configured === undefined) this.tokens.set(this.key, started.token); // a restarted orchestrator reuses it
    this.deployments++;
    const hb = await this.waitHealthy();
    if (program.style === 'binary' && !this.versionMatches(hb)) this.reportOnce(hb, this.versionNote(hb));
    return hb;
  }

  private async waitHealthy(): Promise<HeartbeatInfo> {
    const deadline = Date.now() + START_LIMIT_MS;
    for (let i = 1; ; i++) {
      let state = await this.check();
      // A daemon with another token answers (started by someone else in the meantime):
      // adopt the token file, as on any connect; never leave with a mismatch.
      if (state.kind === 'unauth') state = await this.recoverToken(state);
      if (state.kind === 'ok') {
        if (state.hb.healthy) return state.hb;
        throw new EnnioError('NODE_UNAVAILABLE', `ennio-node on ${this.label} started but is unhealthy: ${state.hb.detail}`);
      }
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

  /** Heartbeat without deploying anything (for `ennio node status|list`). */
  async status(): Promise<NodeStatusInfo> {
    let state: Probe;
    try {
      state = await this.check();
    } catch (err) {
      if (!isEnnioError(err)) throw err;
      if (isSshLevel(err)) return { kind: 'ssh-unreachable', reachable: false, reason: err.message };
      if (err instanceof ForeignListenerError) return { kind: 'refused', reachable: false, reason: err.message };
      return { kind: 'error', reachable: false, reason: err.message };
    }
    if (state.kind === 'ok') {
      const hb = state.hb;
      if (this.target.binaryPath !== undefined && !this.uploadedInstead) {
        // Only reported here: `status` must not look further than the heartbeat needs.
        const matches = this.versionMatches(hb);
        return matches
          ? { kind: 'running', reachable: true, heartbeat: hb, current: true }
          : { kind: 'running', reachable: true, heartbeat: hb, current: false, note: `version ${hb.version} differs from this ennio's ${this.expectedVersion}; ennio does not upgrade a configured ennio_binary_path` };
      }
      const wanted = this.bundleSha();
      return { kind: 'running', reachable: true, heartbeat: hb, current: wanted === undefined || hb.buildId === wanted };
    }
    if (state.kind === 'down') return { kind: 'not-running', reachable: false, reason: `no daemon answers (${this.client.tunnel.lastDialError?.message ?? 'tunnel failed'})` };
    if (state.kind === 'unauth') return { kind: 'refused', reachable: false, reason: state.err.message };
    return { kind: 'error', reachable: false, reason: state.err.message };
  }

  /** Close the HTTP/2 session and its SSH channel (the SSH connection is the registry's). */
  close(): void {
    this.verified = false;
    this.client.close();
  }
}
