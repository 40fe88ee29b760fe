/**
 * The orchestrator's loop: every sweep_interval it checks every session of every config it
 * serves in ONE sweep (src/lifecycle/sweep.ts): the plans of all configs are merged, so a
 * host shared by several configs still gets one command per sweep. The sweep records
 * running → exited as events (src/lifecycle/sweep-status.ts); this loop also records when a
 * session's host becomes unreachable and when it is back ('status' events), and leaves a
 * host that is down alone for a backoff (src/lifecycle/backoff.ts) instead of asking it
 * every sweep. `status` is answered from the latest sweep. It also decides when the
 * orchestrator has been idle long enough to exit.
 */
import { withEnv } from '../core/request-env.js';
import { trace, tracing } from '../core/trace.js';
import { ReconnectGate } from '../lifecycle/backoff.js';
import { sweep, type ProbeProvider, type SweepReport, type SweepTarget } from '../lifecycle/sweep.js';
import type { SessionView, SweepPlan } from '../services/session-manager.js';
import type { ActivityRound } from '../activity/tracker.js';
import type { EventRepo } from '../store/events.js';
import type { ContextPool, PooledContext } from './contexts.js';
import type { Logger } from './log.js';

export interface SweepResult {
  sessions: SessionView[];
  /** When the sweep finished (ms since epoch) and how long it took. */
  at: number;
  ms: number;
  /** The config's change generation when the sweep started (see mutation). */
  gen: number;
}

export interface LastSweep {
  at: number;
  ms: number;
  hosts: number;
  /** Commands and calls sent to hosts and nodes (one per host or node that was asked). */
  calls: number;
  sessions: number;
}

/** The least a sweep waits for a host before reporting it as not answering yet. */
const BUDGET_MIN_MS = 5000;

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class Lifecycle {
  private readonly latest = new Map<string, SweepResult>();
  /** Per config: the latest result merged with the store, and the store stamp it was read at. */
  private readonly merged = new Map<string, { result: SweepResult; stamp: string; sessions: SessionView[] }>();
  /**
   * Per config: bumped before and after every request that changes sessions. A sweep
   * that started before a change (or while one ran) has an older generation, so its
   * result is never served as current.
   */
  private readonly generation = new Map<string, number>();
  private readonly mutating = new Map<string, number>();
  private readonly sweepListeners = new Set<(configPath: string, result: SweepResult) => void>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** The sweep in progress, and the one queued to start after it (requests coalesce). */
  private current: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  /** Why each session was last unreachable (absent: reachable), to record changes only. */
  private readonly unreachable = new Map<string, string>();
  /** Hosts and nodes still busy with an earlier sweep's probe (not asked again meanwhile). */
  private readonly inFlight = new Map<string, { since: number }>();
  /** How long each host's or node's last sweep answer took (a slow one gets longer next time). */
  private readonly answerTimes = new Map<string, number>();
  /** Probes other features add to every host's sweep command. */
  private readonly probeProviders: ProbeProvider[] = [];
  readonly gate: ReconnectGate;
  lastSweep: LastSweep | undefined;
  /** Sweeps completed so far. */
  sweeps = 0;
  /** The latest full report (hosts, probe results), for features that read extra probes. */
  lastReport: SweepReport | undefined;

  constructor(
    private readonly pool: ContextPool,
    private readonly intervalMs: () => number,
    private readonly log: Logger,
    private readonly events: EventRepo,
    private readonly afterSweep: () => void = () => {},
    gate: ReconnectGate = new ReconnectGate(),
  ) {
    this.gate = gate;
  }

  start(): void {
    const tick = async (): Promise<void> => {
      await this.sweepAll();
      this.afterSweep();
      if (this.running) this.timer = setTimeout(() => void tick(), this.intervalMs());
    };
    this.running = true;
    this.timer = setTimeout(() => void tick(), this.intervalMs());
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Add probes to every host's sweep command; their results are in lastReport.hosts[].probes. */
  addProbes(provider: ProbeProvider): void {
    this.probeProviders.push(provider);
  }

  /** A sweep of everything; joins the one in progress. */
  sweepAll(): Promise<void> {
    this.current ??= this.sweepOnce().finally(() => {
      this.current = undefined;
    });
    return this.current;
  }

  /** A sweep that starts now or later, never one already under way (its plan may be older than a change). */
  private freshSweep(): Promise<void> {
    if (!this.current) return this.sweepAll();
    this.next ??= this.current.then(() => {
      this.next = undefined;
      return this.sweepAll();
    });
    return this.next;
  }

  private async sweepOnce(): Promise<void> {
    const started = Date.now();
    const contexts = this.pool.configs();
    const planned = await Promise.all(
      contexts.map(async (ctx) => {
        const gen = this.genOf(ctx.configPath);
        try {
          const plan = await withEnv(ctx.env, () => ctx.manager.planSweep());
          // Activity probes ride along in the same command per host (src/activity).
          const activity = await withEnv(ctx.env, () => ctx.manager.planActivity(plan));
          return { ctx, plan, gen, activity };
        } catch (err) {
          this.log.warn('sweep failed', { config: ctx.configPath, error: errorText(err) });
          return undefined;
        }
      }),
    );
    const plans = planned.filter((p): p is { ctx: PooledContext; plan: SweepPlan; gen: number; activity: ActivityRound } => p !== undefined);
    // The store is shared: a session two configs both show is checked once.
    const targets = new Map<string, SweepTarget>();
    for (const { ctx, plan } of plans) for (const t of plan.targets) if (!targets.has(t.id)) targets.set(t.id, { ...t, env: ctx.env });
    // A host that hangs (a cut link) must not hold every other host's status for connection_timeout.
    const budgetMs = Math.max(BUDGET_MIN_MS, 2 * this.intervalMs());
    const extraProbes = [...this.probeProviders, ...plans.map((p) => p.activity.probesFor)];
    // ennio-node reads the same in its ListRuntimes call.
    const activityAsks = plans.map((p) => p.activity.askFor);
    const report = await sweep([...targets.values()], { gate: this.gate, extraProbes, activityAsks, inFlight: this.inFlight, answerTimes: this.answerTimes, budgetMs });
    let sessions = 0;
    for (const { ctx, plan, gen, activity } of plans) {
      try {
        const views = await withEnv(ctx.env, () => ctx.manager.finishActivity(activity, ctx.manager.applySweep(plan, report.checks), report));
        const previous = this.latest.get(ctx.configPath);
        if (!previous || previous.gen <= gen) {
          const result = { sessions: views, at: report.at, ms: Date.now() - started, gen };
          this.latest.set(ctx.configPath, result);
          for (const l of this.sweepListeners) l(ctx.configPath, result);
        }
        this.recordReachability(views);
        sessions += views.length;
      } catch (err) {
        this.log.warn('sweep failed', { config: ctx.configPath, error: errorText(err) });
      }
    }
    this.logHosts(report);
    this.lastReport = report;
    this.lastSweep = { at: Date.now(), ms: Date.now() - started, hosts: report.hosts.length, calls: report.hosts.reduce((n, h) => n + h.calls, 0), sessions };
    this.sweeps += 1;
  }

  /** 'status' events when a session's host stops answering, changes why, or answers again. */
  private recordReachability(views: readonly SessionView[]): void {
    for (const v of views) {
      const before = this.unreachable.get(v.id);
      if (v.unreachable !== undefined && v.unreachable_reason !== undefined) {
        if (before === v.unreachable_reason) continue;
        this.unreachable.set(v.id, v.unreachable_reason);
        this.events.append(v.id, 'status', { reachable: false, reason: v.unreachable_reason, code: v.unreachable_code, message: v.unreachable });
      } else if (before !== undefined) {
        this.unreachable.delete(v.id);
        // Answered again (a session killed meanwhile says nothing about its host).
        if (v.status === 'running' || v.status === 'exited') this.events.append(v.id, 'status', { reachable: true, after: before });
      }
    }
  }

  private logHosts(report: SweepReport): void {
    for (const h of report.hosts) {
      if (h.recovered) this.log.info('host answers again', { host: h.label });
      else if (h.error !== undefined && h.calls > 0) {
        const retryIn = h.retryAt === undefined ? undefined : Math.max(0, Math.round((h.retryAt - this.gate.clock()) / 100) / 10);
        this.log.warn('host unreachable', { host: h.label, sessions: h.sessions, error: errorText(h.error), retry_in_s: retryIn });
      }
    }
  }

  private genOf(configPath: string): number {
    return this.generation.get(configPath) ?? 0;
  }

  private bump(configPath: string): void {
    this.generation.set(configPath, this.genOf(configPath) + 1);
  }

  /** Runs a request that changes sessions of a config; no sweep from before or during it is served after it. */
  async mutation<T>(configPath: string, run: () => Promise<T>): Promise<T> {
    this.bump(configPath);
    this.mutating.set(configPath, (this.mutating.get(configPath) ?? 0) + 1);
    try {
      return await run();
    } finally {
      this.mutating.set(configPath, (this.mutating.get(configPath) ?? 1) - 1);
      this.bump(configPath);
    }
  }

  /** Hear every sweep result that becomes the current one (the dashboard's live feed). */
  onSweep(listener: (configPath: string, result: SweepResult) => void): () => void {
    this.sweepListeners.add(listener);
    return () => this.sweepListeners.delete(listener);
  }

  /** Sessions of a config: from the latest sweep when it is fresh and nothing changed since, else checked now. */
  async list(ctx: PooledContext, project?: string): Promise<{ sessions: SessionView[]; at: number }> {
    if (project) ctx.manager.project(project); // unknown project: the same error as in-process
    const current = (r: SweepResult | undefined): r is SweepResult => r !== undefined && r.gen === this.genOf(ctx.configPath);
    let result = this.latest.get(ctx.configPath);
    const quiet = (this.mutating.get(ctx.configPath) ?? 0) === 0;
    if (!(current(result) && quiet && Date.now() - result.at <= this.freshForMs())) {
      if (tracing) trace(`list: waits for a sweep (${!current(result) ? 'changed' : !quiet ? 'mutating' : `${Date.now() - result.at} ms old`})`);
      await this.freshSweep();
      result = this.latest.get(ctx.configPath);
      // A config whose sweep failed (or that changed again meanwhile) is checked on its own,
      // so the caller gets its answer or its error.
      if (!current(result)) {
        const at = Date.now();
        const gen = this.genOf(ctx.configPath);
        const sessions = await withEnv(ctx.env, () => ctx.manager.list());
        result = { sessions, at, ms: Date.now() - at, gen };
      }
    }
    // Hooks seen since the sweep (the activity watcher) are already in the store: show them.
    // Read once per sweep result and store change: status of 1,000 sessions asked again
    // and again between two sweeps re-reads nothing (the same array, so callers can cache too).
    const stamp = ctx.manager.storeStamp();
    let merged = this.merged.get(ctx.configPath);
    if (merged?.result !== result || merged.stamp !== stamp) {
      merged = { result, stamp, sessions: ctx.manager.latestRecords(result.sessions) };
      this.merged.set(ctx.configPath, merged);
    }
    return { sessions: project ? merged.sessions.filter((s) => s.project === project) : merged.sessions, at: result.at };
  }

  /**
   * How old the latest sweep may be and still answer status. The next one starts an interval
   * after the last ended, so a result is normally up to interval + a sweep's time old: with
   * 1,000 sessions a sweep takes ~0.5 s (more on a loaded machine), past a fixed 1.5
   * intervals, and a status would then wait for a whole sweep.
   */
  private freshForMs(): number {
    return this.intervalMs() * 1.5 + 2 * (this.lastSweep?.ms ?? 0);
  }

  /** Running sessions in the latest sweeps (the orchestrator stays while any runs). */
  runningCount(): number {
    let n = 0;
    for (const r of this.latest.values()) n += r.sessions.filter((s) => s.status === 'running' || s.status === 'spawning').length;
    return n;
  }

  watchedCount(): number {
    let n = 0;
    for (const r of this.latest.values()) n += r.sessions.length;
    return n;
  }

  /** Hosts and nodes in backoff: what `ennio server status` shows beside each connection. */
  backoffs(): Array<{ key: string; failures: number; retryInMs: number; error: string }> {
    const now = this.gate.clock();
    return this.gate.snapshot().map(([key, f]) => ({ key, failures: f.failures, retryInMs: Math.max(0, f.retryAt - now), error: errorText(f.error) }));
  }
}
