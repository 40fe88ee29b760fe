/**
 * What a sweep means for the sessions' activity (src/activity): the probes that ride along
 * in each host's one sweep command (and the asks of each ennio-node's batched call), and
 * the views completed with what their agents do once the sweep is back. The orchestrator's
 * loop plans and finishes these around its merged sweep (src/server/lifecycle.ts); `run`
 * is the same for one config's sessions (in-process `status`, `session info`).
 */
import type { ActivitySeen } from '../activity/probe.js';
import type { ActivityRound, ActivityTracker } from '../activity/tracker.js';
import type { ExecResult } from '../host/host.js';
import type { SessionRecord } from '../store/sessions.js';
import type { Backend } from '../strategies/types.js';
import { backendsOf, isFailed } from './backends-of.js';
import { sweep, type SweepReport } from './sweep.js';
import type { SessionView, StatusSweep, SweepPlan } from './sweep-status.js';

export class ActivitySweep {
  constructor(
    private readonly tracker: ActivityTracker,
    private readonly status: StatusSweep,
    private readonly backendOf: (record: SessionRecord) => Promise<Backend>,
  ) {}

  /** A sweep with the activity probes riding along in each host's one command. */
  async run(plan: SweepPlan): Promise<SessionView[]> {
    const activity = await this.plan(plan);
    const report = await sweep(plan.targets, { extraProbes: [activity.probesFor], activityAsks: [activity.askFor] });
    return this.finish(activity, this.status.apply(plan, report.checks), report);
  }

  /**
   * What the agents of a sweep's sessions do (src/activity): the probes to add to each
   * host's sweep command. Running sessions are probed; exited ones only recorded as such.
   */
  async plan(plan: SweepPlan): Promise<ActivityRound> {
    const wanted = plan.records.filter((r) => !plan.failed.has(r.id) && (r.status === 'running' || (r.status === 'exited' && r.activity !== 'exited')));
    const backends = await backendsOf(wanted, this.backendOf);
    return this.tracker.plan(
      wanted.map((record) => {
        const backend = backends.get(record.id)!;
        if (isFailed(backend)) throw backend.failed;
        return { record, backend };
      }),
    );
  }

  /** After the sweep: the views with what their agents do (unreachable hosts keep the last known). */
  async finish(activity: ActivityRound, views: SessionView[], report: Pick<SweepReport, 'hosts'>): Promise<SessionView[]> {
    const alive = new Map<string, boolean>();
    for (const v of views) {
      if (v.unreachable) continue;
      if (v.status === 'running') alive.set(v.id, true);
      else if (v.status === 'exited' && v.activity !== 'exited') alive.set(v.id, false);
    }
    const results = new Map<string, ExecResult>();
    const seen = new Map<string, ActivitySeen>();
    for (const h of report.hosts) {
      for (const [key, r] of h.probes ?? []) results.set(key, r);
      for (const [id, a] of h.activity ?? []) seen.set(id, a);
    }
    const fields = await activity.finish(alive, results, seen);
    return views.map((v) => ({ ...v, ...fields.get(v.id) }));
  }
}
