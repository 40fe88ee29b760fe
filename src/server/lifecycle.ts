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
  /** The config's change generation when the sweep started (see markDirty). */
  gen: number;
  /** When the sweep finished (ms since epoch) and how long it took. */
  at: number;
  ms: number;
}

export class Lifecycle {
  private readonly latest = new Map<string, SweepResult>();
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
    const gen = this.genOf(ctx.configPath);
    const sessions = await withEnv(ctx.env, () => ctx.manager.list());
    const result = { sessions, gen, at: Date.now(), ms: Date.now() - started };
    const previous = this.latest.get(ctx.configPath);
    if (!previous || previous.gen <= gen) {
      this.latest.set(ctx.configPath, result);
      for (const l of this.sweepListeners) l(ctx.configPath, result);
    }
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

  /** Hear every sweep result that becomes the current one (the dashboard's live feed). */
  onSweep(listener: (configPath: string, result: SweepResult) => void): () => void {
    this.sweepListeners.add(listener);
    return () => this.sweepListeners.delete(listener);
  }

  /** Sessions of a config: from the latest sweep when it is fresh and nothing changed since, else checked now. */
  async list(ctx: PooledContext, project?: string): Promise<{ sessions: SessionView[]; at: number }> {
    if (project) ctx.manager.project(project); // unknown project: the same error as in-process
    const cached = this.latest.get(ctx.configPath);
    const fresh =
      cached !== undefined &&
      cached.gen === this.genOf(ctx.configPath) &&
      (this.mutating.get(ctx.configPath) ?? 0) === 0 &&
      Date.now() - cached.at <= this.intervalMs() * 1.5;
    const result = fresh ? cached : await this.sweepOne(ctx);
    return { sessions: project ? result.sessions.filter((s) => s.project === project) : result.sessions, at: result.at };
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
