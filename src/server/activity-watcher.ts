/**
 * Local sessions' hooks, seen the moment they fire: the orchestrator watches the directory
 * of state files ($ENNIO_HOME/activity, inotify) and hands a changed file's session to the
 * config that owns it, which reads the new lines and records the activity at once (the
 * sweep would see them only at its next round).
 */
import { mkdirSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { withEnv } from '../core/request-env.js';
import type { ContextPool } from './contexts.js';
import type { Logger } from './log.js';

const STATE_FILE = /^(.+)\.events$/;

export class ActivityWatcher {
  private watcher: FSWatcher | undefined;
  /** Sessions with a read queued or running: a burst of hooks is read in one go. */
  private readonly busy = new Map<string, 'running' | 'again'>();

  constructor(
    private readonly home: string,
    private readonly pool: ContextPool,
    private readonly log: Logger,
  ) {}

  start(): void {
    const dir = join(this.home, 'activity');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.watcher = watch(dir, (_event, file) => {
      const id = file ? STATE_FILE.exec(file.toString())?.[1] : undefined;
      if (id) this.schedule(id);
    });
    this.watcher.on('error', (err) => this.log.warn('activity watcher failed; activity comes with the sweeps', { error: err.message }));
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private schedule(id: string): void {
    if (this.busy.has(id)) {
      this.busy.set(id, 'again');
      return;
    }
    this.busy.set(id, 'running');
    void this.ingest(id).finally(() => {
      const again = this.busy.get(id) === 'again';
      this.busy.delete(id);
      if (again) this.schedule(id);
    });
  }

  private async ingest(id: string): Promise<void> {
    for (const ctx of this.pool.configs()) {
      try {
        if (await withEnv(ctx.env, () => ctx.manager.ingestHooks(id))) return;
      } catch (err) {
        this.log.warn('reading hook events failed', { session: id, error: err instanceof Error ? err.message : String(err) });
        return;
      }
    }
  }
}
