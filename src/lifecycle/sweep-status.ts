/**
 * What a sweep (sweep.ts) means for the sessions' status: which sessions of a config to
 * check, on which runtime (the plan), and what the checks say, applied to the store — a
 * running session whose agent is gone becomes exited, one that could not be checked is
 * shown as unreachable and left as it is. The in-process commands and the orchestrator's
 * loop (src/server/lifecycle.ts) both go through here, through SessionManager.
 */
import type { EventRepo } from '../store/events.js';
import type { SessionRecord, SessionRepo } from '../store/sessions.js';
import type { Backend } from '../strategies/types.js';
import { unreachableFrom, type Unreachable } from '../services/unreachable.js';
import { sweep, type SessionCheck, type SweepTarget } from './sweep.js';
import { backendsOf, isFailed } from './backends-of.js';
import { handleOf } from '../strategies/handle-of.js';

/** Set when the host could not be reached (the stored status is shown unchanged), with why. */
export interface SessionView extends SessionRecord, Partial<Unreachable> {}

/** What a sweep of one config's sessions needs: the records, and how to check the running ones. */
export interface SweepPlan {
  records: SessionRecord[];
  targets: SweepTarget[];
  /** Sessions that cannot even be planned (their backend failed: bad ssh config…), with why. */
  failed: Map<string, unknown>;
}

/** What applying a sweep needs of the session manager. */
export interface SweepStore {
  sessions: SessionRepo;
  events: EventRepo;
  /** The record, or UNKNOWN_SESSION. */
  get(id: string): SessionRecord;
  /** Where a session runs (its project's backend, built on first use). */
  backendOf(record: SessionRecord): Promise<Backend>;
}

/** "(next try in 8 s)": shown while the orchestrator leaves a down host alone. */
function withRetry(view: Unreachable, retryAt: number | undefined): Unreachable {
  if (retryAt === undefined) return view;
  const secs = Math.max(1, Math.ceil((retryAt - Date.now()) / 1000));
  return { ...view, unreachable: `${view.unreachable} (next try in ${secs} s)` };
}

export class StatusSweep {
  constructor(private readonly store: SweepStore) {}

  /** The sweep targets for the running ones of these records. */
  async plan(records: SessionRecord[]): Promise<SweepPlan> {
    const targets: SweepTarget[] = [];
    const failed = new Map<string, unknown>();
    const live = records.filter((r) => r.status === 'running' && r.runtime_handle);
    const backends = await backendsOf(live, (r) => this.store.backendOf(r));
    for (const r of live) {
      const backend = backends.get(r.id)!;
      if (isFailed(backend)) failed.set(r.id, backend.failed);
      else targets.push({ id: r.id, runtime: backend.runtime, handle: handleOf(r) });
    }
    return { records, targets, failed };
  }

  /**
   * What the sweep saw, applied: a running session whose agent is gone becomes exited
   * (with an event); one that could not be checked is shown as unreachable and left as
   * it is. A record changed since the plan (killed, restored meanwhile) is not touched.
   */
  apply(plan: SweepPlan, checks: ReadonlyMap<string, SessionCheck>): SessionView[] {
    const { sessions, events } = this.store;
    return plan.records.map((record): SessionView => {
      if (record.status !== 'running' || !record.runtime_handle) return record;
      const failure = plan.failed.get(record.id);
      // A dead connection is not a dead session: report it, change nothing.
      if (failure !== undefined) return { ...record, ...unreachableFrom(failure) };
      const check = checks.get(record.id);
      if (!check) return record;
      if (!check.ok) return { ...record, ...withRetry(unreachableFrom(check.error), check.retryAt) };
      const { state, exitCode } = check.status;
      if (state === 'running') return record;
      // Restored meanwhile (another runtime), or killed: what the sweep saw is not about it any more.
      const current = sessions.get(record.id);
      if (!current || current.runtime_handle !== record.runtime_handle) return current ?? record;
      const exit = exitCode !== undefined ? { exit_code: exitCode } : {};
      if (sessions.transition(record.id, 'running', { status: 'exited', ...exit })) {
        events.append(record.id, 'exited', { observed: state === 'missing' ? 'runtime gone' : 'agent process exited', ...exit });
      }
      return this.store.get(record.id);
    });
  }

  /** One session checked now, without its activity: what a command about to act on it sees. */
  async refresh(record: SessionRecord): Promise<SessionView> {
    const plan = await this.plan([record]);
    return this.apply(plan, (await sweep(plan.targets)).checks)[0] ?? record;
  }
}
