/**
 * The orchestrator's loop: every sweep_interval it checks every session of every config it
 * serves (SessionManager.list: one command per host), which records transitions such as
 * running → exited as events; `status` is answered from the latest sweep. It also decides
 * when the orchestrator has been idle long enough to exit.
 */
import { withEnv } from '../core/request-env.js';
import type { SessionView } from '../services/session-manager.js';
import type { ContextPool, PooledContext } from './contexts.js';
import type { Logger } from './log.js';

export interface SweepResult {
  sessions: SessionView[];
  /** When the sweep finished (ms since epoch) and how long it took. */
  at: number;
  ms: number;
}

export class Lifecycle {
  private readonly latest = new Map<string, SweepResult>();
  /**
   * How many times a request changed each config's sessions. A sweep result is fresh only if
   * no change came after the sweep started (one that ran during a slow spawn misses it).
   */
  private readonly changes = new Map<string, number>();
  private readonly sweptAt = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  lastSweep: { at: number; ms: number } | undefined;

  constructor(
    private readonly pool: ContextPool,
    private readonly intervalMs: () => number,
    private readonly log: Logger,
    private readonly afterSweep: () => void = () => {},
  ) {}

  start(): void {
    const tick = async (): Promise<void> => {
      await this.sweepAll();
      this.afterSweep();
      if (this.timer !== undefined || this.running) this.timer = setTimeout(() => void tick(), this.intervalMs());
    };
    this.running = true;
    this.timer = setTimeout(() => void tick(), this.intervalMs());
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async sweepOne(ctx: PooledContext): Promise<SweepResult> {
    const started = Date.now();
    const generation = this.changes.get(ctx.configPath) ?? 0;
    const sessions = await withEnv(ctx.env, () => ctx.manager.list());
    const result = { sessions, at: Date.now(), ms: Date.now() - started };
    this.latest.set(ctx.configPath, result);
    this.sweptAt.set(ctx.configPath, generation);
    return result;
  }

  async sweepAll(): Promise<void> {
    const started = Date.now();
    await Promise.all(
      this.pool.configs().map((ctx) =>
        this.sweepOne(ctx).catch((err: unknown) => {
          this.log.warn('sweep failed', { config: ctx.configPath, error: err instanceof Error ? err.message : String(err) });
        }),
      ),
    );
    this.lastSweep = { at: Date.now(), ms: Date.now() - started };
  }

  /** Sessions of a config: from the latest sweep when it is fresh and nothing changed since, else checked now. */
  async list(ctx: PooledContext, project?: string): Promise<{ sessions: SessionView[]; at: number }> {
    if (project) ctx.manager.project(project); // unknown project: the same error as in-process
    const cached = this.latest.get(ctx.configPath);
    const unchanged = (this.sweptAt.get(ctx.configPath) ?? -1) === (this.changes.get(ctx.configPath) ?? 0);
    const fresh = cached && unchanged && Date.now() - cached.at <= this.intervalMs() * 1.5;
    const result = fresh ? cached : await this.sweepOne(ctx);
    // Hooks seen since the sweep (the activity watcher) are already in the store: show them.
    const sessions = ctx.manager.latestActivity(result.sessions);
    return { sessions: project ? sessions.filter((s) => s.project === project) : sessions, at: result.at };
  }

  markDirty(configPath: string): void {
    this.changes.set(configPath, (this.changes.get(configPath) ?? 0) + 1);
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
}
