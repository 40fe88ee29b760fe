/**
 * Keeping one remote daemon answering, healthy, current and on our token: the health
 * check before operations, deploy when no daemon answers, upgrade when its build differs
 * (build-policy.ts), re-deploy after it idled out or was killed, token adoption, stop.
 *
 * Warm path: when the HTTP/2 session over the SSH channel is open and the last health
 * check passed, ensure() costs nothing. A daemon that exits closes the channel, which
 * marks the node unverified, so the next operation checks (and re-deploys) first.
 *
 * Several orchestrators (processes, machines) may share one remote user's daemon. Every
 * decision that changes the remote — deploy, upgrade, restart for a configured token — is
 * taken under the remote deploy lock (remote-scripts.ts LOCK), after checking again what
 * runs there; the token file is only ever created once (first writer wins) and read back
 * after starting. So concurrent first deploys end with one daemon whose token every
 * orchestrator adopts, never with a token file that does not match the running daemon.
 */
import { EnnioError, isEnnioError } from '../../core/errors.js';
import type { BuildPolicy } from './build-policy.js';
import { checkDaemon, type DaemonCheck } from './daemon-check.js';
import type { DaemonToken } from './daemon-token.js';
import { withDeployLock } from './deploy-lock.js';
import { daemonAlive, ensureProgram, logTail, probe, signalDaemon, startRemote, type DeployTarget } from './deploy.js';
import type { HeartbeatInfo, NodeClient } from './node-client.js';

export interface DaemonLifecycleParts {
  client: NodeClient;
  target: DeployTarget;
  token: DaemonToken;
  policy: BuildPolicy;
  /** Progress lines ("starting ennio-node on …"). */
  log: (message: string) => void;
  warn: (message: string) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** How long a freshly started daemon may take to answer, and a stopping one to go. */
const START_LIMIT_MS = 15_000;
const STOP_LIMIT_MS = 10_000;
const POLL_MS = 50;

export class DaemonLifecycle {
  /** Daemons this object started (deploys, re-deploys, upgrades). */
  deployments = 0;
  lastHeartbeat: HeartbeatInfo | undefined;
  private verified = false;
  private ensuring: Promise<HeartbeatInfo> | undefined;
  private readonly client: NodeClient;
  private readonly target: DeployTarget;
  private readonly token: DaemonToken;
  private readonly policy: BuildPolicy;
  private readonly log: (message: string) => void;
  private readonly warn: (message: string) => void;

  constructor(parts: DaemonLifecycleParts) {
    this.client = parts.client;
    this.target = parts.target;
    this.token = parts.token;
    this.policy = parts.policy;
    this.log = parts.log;
    this.warn = parts.warn;
    this.client.tunnel.onDisconnect = () => this.invalidate();
  }

  private get label(): string {
    return this.client.label;
  }

  /** The next operation checks the daemon first (it may be gone or replaced). */
  invalidate(): void {
    this.verified = false;
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

  private check(): Promise<DaemonCheck> {
    return checkDaemon(this.client, this.target);
  }

  private async connectOrDeploy(): Promise<HeartbeatInfo> {
    // The common case — our daemon answers, healthy and current — needs no lock.
    const first = await this.check();
    if (first.kind === 'ok' && first.hb.healthy && this.policy.keepWithoutLook(first.hb)) return first.hb;
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
      const verdict = await this.policy.verdict(hb);
      if (verdict.note !== undefined) this.policy.reportOnce(hb, verdict.note);
      if (verdict.wanted === undefined || hb.buildId === verdict.wanted) return hb;
      this.log(`upgrading ennio-node on ${this.label} (running ${hb.version} ${hb.buildId.slice(0, 12)}, ours ${verdict.wanted.slice(0, 12)})`);
      await this.stop(true);
    } else if (state.kind === 'busy') {
      // Something answers but cannot serve (shutting down, hung): let it go first.
      await this.waitGone();
    }
    return this.deploy();
  }

  /** The daemon wants another token: adopt the remote's token file (or restart for a configured token). */
  private async recoverToken(state: DaemonCheck & { kind: 'unauth' }): Promise<DaemonCheck> {
    const remote = (await probe(this.target)).token;
    if (remote === undefined || remote === this.token.current) throw state.err;
    const previous = this.token.current;
    this.token.current = remote;
    const again = await this.check();
    if (again.kind !== 'ok') {
      this.token.current = previous;
      throw state.err;
    }
    const configured = this.token.configured;
    if (configured === undefined) {
      this.token.adopt(remote);
      return again;
    }
    this.log(`restarting ennio-node on ${this.label} with the configured auth_token`);
    await this.stop(true);
    this.token.current = configured;
    return { kind: 'down' };
  }

  private async deploy(): Promise<HeartbeatInfo> {
    const p = await probe(this.target);
    const offered = this.token.offer(p.token);
    const program = await ensureProgram(this.target, p, this.warn);
    this.policy.starting(program);
    this.log(`starting ennio-node on ${this.label}`);
    // The token the daemon really got is the file's content after the start script: a
    // concurrent deploy may have created the file first (then it is theirs, and ours too).
    const started = await startRemote(this.target, program, offered, this.token.configured === undefined ? 'create' : 'replace');
    this.token.startedWith(started.token);
    this.deployments++;
    const hb = await this.waitHealthy();
    this.policy.started(program, hb);
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
    this.invalidate();
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
}
