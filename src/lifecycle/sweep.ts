/**
 * One sweep: the status of every given session, with ONE command per host and one batched
 * call per ennio-node, however many sessions there are.
 *
 * Sessions are grouped by how their runtime sweeps (Runtime.sweeper):
 * - host-probe (tmux, tmate, remote_control, local tmux): every probe of a host (one
 *   `list-panes -a` per tmux server, plus probes other features register for that host
 *   through `extraProbes`) runs as one command (src/ops/host-probes.ts);
 * - batch (ennio-node): one ListRuntimes call per node, which also carries what features
 *   ask through `activityAsks` (the agents' hook events and screens, read by the daemon);
 * - none (the process runtime): `liveness` per session, on this machine.
 *
 * With a ReconnectGate (the orchestrator), a host or node that could not be asked is not
 * asked again until its backoff has passed; its sessions are reported with the last
 * failure meanwhile. What the statuses mean for the store is the caller's business
 * (sweep-status.ts records running → exited).
 */
import type { ActivityAsk, ActivitySeen } from '../activity/probe.js';
import { EnnioError } from '../core/errors.js';
import { withEnv, type Env } from '../core/request-env.js';
import type { Host } from '../host/host.js';
import { runHostProbes, type HostProbe, type ProbeResult } from '../ops/host-probes.js';
import type { BatchSweeper, HostProbeSweeper, Runtime, RuntimeHandle, RuntimeStatus } from '../strategies/types.js';
import type { ReconnectGate } from './backoff.js';

export interface SweepTarget {
  /** The session id (results are keyed by it). */
  id: string;
  runtime: Runtime;
  handle: RuntimeHandle;
  /** The environment of the session's context (a local tmux server depends on it); default: the current one. */
  env?: Env;
}

export type SessionCheck =
  | { ok: true; status: RuntimeStatus }
  /** Not checked: why, and, when the host was left alone because of backoff, when it is tried next. */
  | { ok: false; error: unknown; retryAt?: number };

export interface HostSweep {
  /** The backoff key: `host:<label>` or `node:<key>`. */
  key: string;
  label: string;
  kind: 'host-probe' | 'batch' | 'per-session';
  sessions: number;
  /** Commands run on the host (host-probe) or calls made (batch, per-session). */
  calls: number;
  ms: number;
  /** Why the host could not be asked (now, or at the last attempt when in backoff). */
  error?: unknown;
  /** When a host in backoff will be asked again. */
  retryAt?: number;
  /** The host answered after failing. */
  recovered?: boolean;
  /** Every probe's result, extra probes included (host-probe only). */
  probes?: ReadonlyMap<string, ProbeResult>;
  /** What the endpoint read for the activity asked, by session id (batch only; absent from an older ennio-node). */
  activity?: ReadonlyMap<string, ActivitySeen>;
}

export interface SweepReport {
  /** When the sweep finished (ms since epoch) and how long it took. */
  at: number;
  ms: number;
  checks: Map<string, SessionCheck>;
  hosts: HostSweep[];
}

/** Probes a feature wants in every sweep command of a host (e.g. reading activity state files). */
export type ProbeProvider = (host: Host) => readonly HostProbe[];

/** What a feature wants a batched call to read for a session (its agent's activity), by session id. */
export type ActivityAskProvider = (sessionId: string) => ActivityAsk | undefined;

export interface SweepOptions {
  gate?: ReconnectGate;
  extraProbes?: readonly ProbeProvider[];
  /** Asked of batch sweepers beside each session's status (the first provider that answers for a session). */
  activityAsks?: readonly ActivityAskProvider[];
  /** Deadline of one host's sweep command (default 20 s). */
  timeoutMs?: number;
  /**
   * How long the sweep waits for one host (the orchestrator: a host that hangs, e.g. behind
   * a cut link, must not hold everyone's `status`). A host that has not answered by then is
   * reported as not answering yet; its probe goes on, and its outcome feeds the gate.
   */
  budgetMs?: number;
  /**
   * Probes still running from earlier sweeps, by endpoint key (kept by the caller across
   * sweeps): an endpoint with one is not asked again until it ends.
   */
  inFlight?: Map<string, { since: number }>;
  /**
   * How long each endpoint's last answer took, by endpoint key (kept by the caller across
   * sweeps; failures are not answers). An endpoint that answered after the budget gets that long (×1.5, up to
   * SLOW_BUDGET_CAP_MS) next time: otherwise a probe that is slow because of its work (the
   * first sweep reads every screen: 1,000 sessions, or a loaded host) is given up on every
   * time, its answer — and what the activity tracker learns from it — never used, and every
   * sweep asks for all of it again.
   */
  answerTimes?: Map<string, number>;
}

const DEFAULT_TIMEOUT_MS = 20_000;
/** The most a slow but answering endpoint extends its budget to. */
const SLOW_BUDGET_CAP_MS = 60_000;

interface HostGroup {
  host: Host;
  env: Env | undefined;
  items: Array<{ target: SweepTarget; sweeper: HostProbeSweeper; probe: HostProbe }>;
}

interface BatchGroup {
  key: string;
  sweeper: BatchSweeper;
  env: Env | undefined;
  targets: SweepTarget[];
}

/**
 * The backoff key of a host: `host:<label>`, and `host:<label>#2`… for other connections to
 * the same endpoint (projects with other security settings get their own SshHost).
 */
const hostKeys = new WeakMap<Host, string>();
const labelUses = new Map<string, number>();
function hostKeyOf(host: Host): string {
  let key = hostKeys.get(host);
  if (key === undefined) {
    const n = (labelUses.get(host.label) ?? 0) + 1;
    labelUses.set(host.label, n);
    key = n === 1 ? `host:${host.label}` : `host:${host.label}#${n}`;
    hostKeys.set(host, key);
  }
  return key;
}

const inEnv = <T>(env: Env | undefined, fn: () => Promise<T>): Promise<T> => (env ? withEnv(env, fn) : fn());

export async function sweep(targets: readonly SweepTarget[], options: SweepOptions = {}): Promise<SweepReport> {
  const started = Date.now();
  const checks = new Map<string, SessionCheck>();
  const hostGroups = new Map<Host, HostGroup>();
  const batchGroups = new Map<string, BatchGroup>();
  const singles: SweepTarget[] = [];
  for (const target of targets) {
    const sweeper = target.runtime.sweeper;
    if (!sweeper) {
      singles.push(target);
    } else if (sweeper.kind === 'host-probe') {
      let probe: HostProbe;
      try {
        probe = sweeper.probeFor(target.handle);
      } catch (error) {
        checks.set(target.id, { ok: false, error }); // a handle it cannot read (bad data)
        continue;
      }
      let g = hostGroups.get(sweeper.host);
      if (!g) hostGroups.set(sweeper.host, (g = { host: sweeper.host, env: target.env, items: [] }));
      g.items.push({ target, sweeper, probe });
    } else {
      const key = sweeper.keyOf(target.handle);
      let g = batchGroups.get(key);
      if (!g) batchGroups.set(key, (g = { key, sweeper, env: target.env, targets: [] }));
      g.targets.push(target);
    }
  }
  const hosts = await Promise.all([
    ...[...hostGroups.values()].map((g) => sweepHost(g, checks, options)),
    ...[...batchGroups.values()].map((g) => sweepBatch(g, checks, options)),
    ...(singles.length > 0 ? [sweepEach(singles, checks)] : []),
  ]);
  const at = Date.now();
  return { at, ms: at - started, checks, hosts };
}

/** What asking one endpoint (a host or a node) gave. */
type Asked<T> =
  | { kind: 'answer'; value: T; recovered: boolean }
  | { kind: 'failed'; error: unknown; retryAt?: number }
  /** Not asked (backoff) or no answer within the budget: the sessions get `error`. */
  | { kind: 'skipped'; error: unknown; retryAt?: number };

const secs = (ms: number): number => Math.max(1, Math.round(ms / 1000));

function noAnswerYet(label: string, code: 'SSH_CONNECT' | 'NODE_UNAVAILABLE', sinceMs: number): EnnioError {
  return new EnnioError(code, `no answer from ${label} yet (asked ${secs(Date.now() - sinceMs)} s ago); still waiting`, {
    hint: `the status shown is the last one known; check that ${label} is reachable`,
  });
}

/**
 * Ask one endpoint, unless it is in backoff or still busy with an earlier sweep's probe;
 * wait at most budgetMs for it. Whenever the answer comes, it updates the gate.
 */
async function ask<T>(key: string, label: string, code: 'SSH_CONNECT' | 'NODE_UNAVAILABLE', run: () => Promise<T>, options: SweepOptions): Promise<Asked<T>> {
  const { gate, inFlight } = options;
  const held = gate?.blocked(key);
  if (held) return { kind: 'skipped', error: held.error, retryAt: held.retryAt };
  const busy = inFlight?.get(key);
  if (busy) return { kind: 'skipped', error: noAnswerYet(label, code, busy.since) };
  const since = Date.now();
  inFlight?.set(key, { since });
  const outcome = run().then(
    (value): Asked<T> => ({ kind: 'answer', value, recovered: gate?.succeeded(key) ?? false }),
    (error: unknown): Asked<T> => {
      const f = gate?.failed(key, error);
      return { kind: 'failed', error, ...(f ? { retryAt: f.retryAt } : {}) };
    },
  );
  void outcome.then((asked) => {
    inFlight?.delete(key);
    // Only a real answer earns a longer wait: a failure after connection_timeout (a cut
    // link) must not make the next sweeps wait that long for it.
    if (asked.kind === 'answer') options.answerTimes?.set(key, Date.now() - since);
    else options.answerTimes?.delete(key);
  });
  if (options.budgetMs === undefined) return outcome;
  const lastTook = options.answerTimes?.get(key) ?? 0;
  const budgetMs = Math.max(options.budgetMs, Math.min(SLOW_BUDGET_CAP_MS, Math.ceil(lastTook * 1.5)));
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Asked<T>>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'skipped', error: noAnswerYet(label, code, since) }), budgetMs);
  });
  try {
    return await Promise.race([outcome, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The sessions of an endpoint that gave no answer, and the report line saying why. */
function unanswered(asked: Asked<unknown> & { kind: 'failed' | 'skipped' }, ids: readonly string[], checks: Map<string, SessionCheck>): Pick<HostSweep, 'error' | 'retryAt'> {
  const retry = asked.retryAt === undefined ? {} : { retryAt: asked.retryAt };
  for (const id of ids) checks.set(id, { ok: false, error: asked.error, ...(asked.kind === 'skipped' ? retry : {}) });
  return { error: asked.error, ...retry };
}

async function sweepHost(g: HostGroup, checks: Map<string, SessionCheck>, options: SweepOptions): Promise<HostSweep> {
  const key = hostKeyOf(g.host);
  const ids = g.items.map((i) => i.target.id);
  const t0 = Date.now();
  const probes = [...g.items.map((i) => i.probe), ...(options.extraProbes ?? []).flatMap((provide) => provide(g.host))];
  const asked = await ask(key, g.host.label, 'SSH_CONNECT', () => inEnv(g.env, () => runHostProbes(g.host, probes, { timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS })), options);
  const base = { key, label: g.host.label, kind: 'host-probe' as const, sessions: ids.length, ms: Date.now() - t0 };
  if (asked.kind === 'skipped') return { ...base, calls: 0, ...unanswered(asked, ids, checks) };
  if (asked.kind === 'failed') return { ...base, calls: 1, ...unanswered(asked, ids, checks) };
  const results = asked.value;
  for (const i of g.items) {
    try {
      // runHostProbes answers every probe it was given.
      checks.set(i.target.id, { ok: true, status: i.sweeper.statusOf(i.target.handle, results.get(i.probe.key) as ProbeResult) });
    } catch (error) {
      // The host answered, but this probe failed (tmux missing, a broken server): no backoff.
      checks.set(i.target.id, { ok: false, error });
    }
  }
  return { ...base, calls: 1, recovered: asked.recovered, probes: results };
}

async function sweepBatch(g: BatchGroup, checks: Map<string, SessionCheck>, options: SweepOptions): Promise<HostSweep> {
  const key = `node:${g.key}`;
  const ids = g.targets.map((t) => t.id);
  const t0 = Date.now();
  const asks = new Map<string, ActivityAsk>();
  for (const t of g.targets) {
    const wanted = firstAsk(options.activityAsks, t.id);
    if (wanted) asks.set(t.handle.id, wanted);
  }
  const asked = await ask(key, g.sweeper.label, 'NODE_UNAVAILABLE', () => inEnv(g.env, () => g.sweeper.check(g.targets.map((t) => t.handle), asks.size > 0 ? asks : undefined)), options);
  const base = { key, label: g.sweeper.label, kind: 'batch' as const, sessions: ids.length, ms: Date.now() - t0 };
  if (asked.kind === 'skipped') return { ...base, calls: 0, ...unanswered(asked, ids, checks) };
  if (asked.kind === 'failed') return { ...base, calls: 1, ...unanswered(asked, ids, checks) };
  const activity = new Map<string, ActivitySeen>();
  for (const t of g.targets) {
    const a = asked.value.get(t.handle.id);
    if (a === undefined) checks.set(t.id, { ok: false, error: new Error(`${g.sweeper.label} did not report runtime ${t.handle.id}`) });
    else if (a instanceof Error) checks.set(t.id, { ok: false, error: a });
    else {
      const { activity: seen, ...status } = a;
      checks.set(t.id, { ok: true, status });
      if (seen) activity.set(t.id, seen);
    }
  }
  return { ...base, calls: 1, recovered: asked.recovered, ...(activity.size > 0 ? { activity } : {}) };
}

function firstAsk(providers: readonly ActivityAskProvider[] | undefined, sessionId: string): ActivityAsk | undefined {
  for (const provide of providers ?? []) {
    const wanted = provide(sessionId);
    if (wanted) return wanted;
  }
  return undefined;
}

/** Runtimes without a sweeper (the local process runtime): one check each, on this machine. */
async function sweepEach(targets: readonly SweepTarget[], checks: Map<string, SessionCheck>): Promise<HostSweep> {
  const t0 = Date.now();
  await Promise.all(
    targets.map(async (t) => {
      try {
        checks.set(t.id, { ok: true, status: { state: await inEnv(t.env, () => t.runtime.liveness(t.handle)) } });
      } catch (error) {
        checks.set(t.id, { ok: false, error });
      }
    }),
  );
  return { key: 'per-session', label: 'per session', kind: 'per-session', sessions: targets.length, calls: targets.length, ms: Date.now() - t0 };
}
