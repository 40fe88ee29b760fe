/**
 * The activity tracker: gathers the evidence for a set of sessions (new hook lines, screen
 * changes, a screen read when the classifier needs one), runs the classifier, and records
 * the result in the store — with an 'activity' event and a Transition for listeners
 * (notifications) when the activity changed.
 *
 * Evidence costs one probe per tmux server per host, whatever the number of sessions
 * (src/activity/probe.ts), run inside that host's sweep command (no command of its own);
 * ennio-node hosts, which the sweep asks through the daemon, answer the same questions in
 * that ListRuntimes call (asked through ActivityRound.askFor) — only a daemon too old for
 * that gets the probe as one command over SSH. Local state files are read straight from
 * disk. What the tracker remembers between observations (file cursor, last screen:
 * memory.ts) is kept in the record's activity_state, so a CLI run in-process continues
 * where the orchestrator left off.
 */
import { createHash, randomBytes } from 'node:crypto';
import { agentPlugin } from '../agents/index.js';
import type { ActivityConfig } from '../config/schema.js';
import type { ExecResult, Host } from '../host/host.js';
import type { HostProbe } from '../ops/host-probes.js';
import type { EventRepo } from '../store/events.js';
import type { SessionRecord, SessionRepo } from '../store/sessions.js';
import type { Backend, ScreenTarget } from '../strategies/types.js';
import { handleOf } from '../strategies/handle-of.js';
import { classifySteps, type ClassifyRules } from './classify.js';
import { activityPaths, activityPathsOfMany } from './install.js';
import { activityProbe, type ActivityAsk, type ActivitySeen, type Probe, type ProbeResult, type ProbeSession } from './probe.js';
import { parseHookLines } from './state-lines.js';
import { localClock, readLocalLines } from './local-state.js';
import { captureWish, memoryOf, type Memory } from './memory.js';
import type { Activity, HookEvent, ScreenEvidence } from './types.js';

export interface Transition {
  session: SessionRecord;
  from: Activity | null;
  to: Activity;
  /** When the session entered `to` (ms), and how long it had been in `from`. */
  since: number;
  fromSince: number | null;
}

export type TransitionListener = (t: Transition) => void;

/** A session whose activity is wanted: its record and where it runs. */
export interface Planned {
  record: SessionRecord;
  backend: Backend;
}

/** One observation of many sessions, riding along a sweep (see ActivityTracker.plan). */
export interface ActivityRound {
  /** The activity probes for a host's sweep command. */
  probesFor(host: Host): HostProbe[];
  /** What a batched call (ennio-node's ListRuntimes) should read for a session, by session id. */
  askFor(sessionId: string): ActivityAsk | undefined;
  /**
   * Record what was seen: `alive` per session from the sweep (true: runs; false: just exited;
   * absent: not checked, e.g. unreachable — left as it was), `results` the probes' outputs by
   * key, `seen` what batched calls answered to askFor, by session id.
   */
  finish(alive: ReadonlyMap<string, boolean>, results: ReadonlyMap<string, ExecResult>, seen?: ReadonlyMap<string, ActivitySeen>): Promise<Map<string, ActivityFields>>;
}

/** The activity columns of a record after an observation. */
export type ActivityFields = Pick<SessionRecord, 'activity' | 'activity_since' | 'agent_session_id'>;

interface TmuxGroupPlan {
  probe: Probe<ProbeResult>;
  /** The probe's questions per session id, for a batched call. */
  asks: Map<string, ActivityAsk>;
  /** The tmux session of each session id. */
  sessionOf: Map<string, string>;
  apply(result: ProbeResult, live: (id: string) => boolean): Map<string, ActivityFields>;
}

/** A batched call's answers for one group, as if its probe had run (one host, so one clock). */
function batchedResult(seen: ReadonlyArray<[string, ActivitySeen]>): ProbeResult {
  return { clock: seen[0]![1].clock, sessions: new Map(seen.map(([session, { clock: _, ...s }]) => [session, s])) };
}

export class ActivityTracker {
  constructor(
    private readonly sessions: SessionRepo,
    private readonly events: EventRepo,
    private readonly config: ActivityConfig,
    private readonly listener: TransitionListener = () => {},
  ) {}

  private get rules(): ClassifyRules {
    return { quietMs: this.config.quiet_after, staleMs: this.config.stale_after };
  }

  /**
   * Plan the observation of running sessions: one probe per tmux server and host, to run
   * inside that host's sweep command (ActivityRound.probesFor, src/lifecycle/sweep.ts
   * extraProbes); for sessions swept by a batched call (ennio-node), the same questions
   * per session for that call (askFor). After the sweep, `finish` records what was seen —
   * and runs the probe itself where neither answered (a daemon without activity support).
   */
  async plan(items: readonly Planned[]): Promise<ActivityRound> {
    const byKey = new Map<string, { host: Host; target: ScreenTarget; batched: boolean; items: Planned[] }>();
    const others: Planned[] = [];
    // Several configs' rounds may ride along one sweep: their keys differ by this.
    const round = randomBytes(4).toString('hex');
    const keys = new Map<string, string>(); // most sessions share a few keys: hashed once each
    for (const item of items) {
      if (item.record.status !== 'running' || !item.record.runtime_handle) continue;
      const target = item.backend.runtime.screenTarget?.(handleOf(item.record));
      if (!target) {
        others.push(item);
        continue;
      }
      const batched = item.backend.runtime.sweeper?.kind === 'batch';
      // Unique per host and tmux server: probes of one sweep command are told apart by key.
      const id = JSON.stringify([item.backend.host.label, target.server, batched]);
      let key = keys.get(id);
      if (!key) keys.set(id, (key = `activity:${round}:${createHash('sha256').update(id).digest('hex').slice(0, 16)}`));
      const group = byKey.get(key) ?? { host: item.backend.host, target, batched, items: [] };
      group.items.push(item);
      byKey.set(key, group);
    }
    const groups = await Promise.all(
      [...byKey].map(async ([key, g]) => ({ key, host: g.host, batched: g.batched, ids: new Set(g.items.map((i) => i.record.id)), ...(await this.planTmuxGroup(g.host, g.target, g.items)) })),
    );
    const byId = new Map(items.map((i) => [i.record.id, i]));
    const asks = new Map(groups.filter((g) => g.batched).flatMap((g) => [...g.asks]));
    return {
      probesFor: (host) => groups.filter((g) => g.host === host && !g.batched).map((g) => ({ key: g.key, argv: g.probe.argv })),
      askFor: (sessionId) => asks.get(sessionId),
      finish: async (alive, results, seen = new Map()) => {
        const out = new Map<string, ActivityFields>();
        for (const [id, isAlive] of alive) {
          const item = byId.get(id);
          if (item && isAlive === false) this.record(item.record, [], undefined, false, Date.now(), out);
        }
        const live = (id: string): boolean => alive.get(id) === true;
        await Promise.all([
          ...groups.map(async (g) => {
            const ids = [...g.ids].filter(live);
            if (ids.length === 0) return;
            const answered = g.batched && ids.every((id) => seen.has(id));
            if (answered) {
              for (const [id, fields] of g.apply(batchedResult(ids.map((id) => [g.sessionOf.get(id)!, seen.get(id)!])), live)) out.set(id, fields);
              return;
            }
            let res = results.get(g.key);
            if (!res) {
              try {
                res = await g.host.exec(g.probe.argv, { timeoutMs: 20_000 });
              } catch {
                return; // host unreachable: the status says so; the activity stays as last known
              }
            }
            if (res.code !== 0) return;
            for (const [id, fields] of g.apply(g.probe.parse(res.stdout), live)) out.set(id, fields);
          }),
          ...others.filter((i) => live(i.record.id)).map((i) => this.observeOther(i, out)),
        ]);
        return out;
      },
    };
  }

  /**
   * The probe for the sessions of one tmux server on a host (and the same questions per
   * session, `asks`, for a batched call), and what to do with the answer.
   */
  private async planTmuxGroup(host: Host, target: ScreenTarget, items: readonly Planned[]): Promise<TmuxGroupPlan> {
    const now = Date.now();
    // Synchronous per session (a sweep plans 1,000 of them): one promise per data dir, not per session.
    const pathsOf = await activityPathsOfMany(host, items.map((item) => ({ dataDir: item.backend.dataDir, sessionId: item.record.id })));
    const prepared = items.map((item, i) => ({
      item,
      memory: memoryOf(item.record),
      paths: pathsOf[i]!,
      agent: agentPlugin(item.record.agent).activity,
      session: handleOf(item.record).id,
    }));
    const targets = prepared.map((p) => ({
      session: p.session,
      stateFile: host.isRemote ? p.paths.stateFile : '',
      offset: p.memory?.cursor ?? 0,
      capture: captureWish(p.agent, p.memory, this.rules, now),
    }));
    const probe = activityProbe(target.server, targets);
    const asks = new Map(targets.map(({ session, ...ask }, i) => [prepared[i]!.item.record.id, ask]));
    const sessionOf = new Map(prepared.map((p) => [p.item.record.id, p.session]));
    const apply = (result: ProbeResult, live: (id: string) => boolean): Map<string, ActivityFields> => {
      const out = new Map<string, ActivityFields>();
      const localNow = Date.now();
      // One transaction for the group: a first sweep writes every session's activity.
      this.sessions.batch(() => {
        for (const p of prepared.filter((x) => live(x.item.record.id))) {
          const seen: ProbeSession = result.sessions.get(p.session) ?? { lines: '' };
          const clock = host.isRemote ? result.clock : localClock();
          const { text, from } = host.isRemote ? { text: seen.lines, from: seen.from ?? p.memory?.cursor ?? 0 } : readLocalLines(p.paths.stateFile, p.memory?.cursor ?? 0);
          const parsed = parseHookLines(text, clock, localNow);
          let screen: Memory['screen'] | undefined = p.memory?.screen;
          if (seen.windowActivity !== undefined) {
            const mark = String(seen.windowActivity);
            const changedAt = localNow - Math.max(0, result.clock.nowMs - seen.windowActivity * 1000);
            screen = screen?.mark === mark ? screen : { ...screen, mark, changedAt };
            if (seen.screen !== undefined) {
              // window_activity counts whole seconds: a read within the second of the last change
              // may miss a later change in that second, so it is used now but read again next time.
              const settled = Math.floor(result.clock.nowMs / 1000) > seen.windowActivity;
              screen = { ...screen, readMark: mark, reading: p.agent.readScreen(seen.screen), ...(settled ? {} : { unsettled: true }) };
              if (settled) delete screen.unsettled;
            }
          }
          this.record(p.item.record, parsed.events, screen, true, localNow, out, from + parsed.consumed);
        }
      });
      return out;
    };
    return { probe, asks, sessionOf, apply };
  }

  /** Runtimes without a tmux pane (process): output changes and the log's last lines. */
  private async observeOther(item: Planned, out: Map<string, ActivityFields>): Promise<void> {
    const runtime = item.backend.runtime;
    const memory = memoryOf(item.record);
    const paths = await activityPaths(item.backend.host, item.backend.dataDir, item.record.id);
    const { text, from } = item.backend.host.isRemote ? { text: '', from: memory?.cursor ?? 0 } : readLocalLines(paths.stateFile, memory?.cursor ?? 0);
    const now = Date.now();
    const parsed = parseHookLines(text, localClock(), now);
    let screen = memory?.screen;
    if (runtime.outputActivity) {
      const agent = agentPlugin(item.record.agent).activity;
      const wish = captureWish(agent, memory, this.rules, now);
      const seen = await runtime.outputActivity(handleOf(item.record), wish !== undefined);
      const mark = seen.text !== undefined ? createHash('sha256').update(seen.text).digest('hex').slice(0, 16) : String(seen.changedAt);
      screen = screen?.mark === mark ? screen : { ...screen, mark, changedAt: seen.changedAt || now };
      if (seen.text !== undefined) screen = { ...screen, readMark: mark, reading: agent.readScreen(seen.text) };
    }
    this.record(item.record, parsed.events, screen, true, now, out, from + parsed.consumed);
  }

  /**
   * New hook lines of local sessions, seen the moment they are written (the orchestrator's
   * file watcher): hooks only, no screen, the process taken as alive.
   */
  ingestLocal(record: SessionRecord, stateFile: string): ActivityFields | undefined {
    const memory = memoryOf(record);
    const { text, from } = readLocalLines(stateFile, memory?.cursor ?? 0);
    const now = Date.now();
    const parsed = parseHookLines(text, localClock(), now);
    if (parsed.events.length === 0) return undefined;
    const out = new Map<string, ActivityFields>();
    this.record(record, parsed.events, memory?.screen, true, now, out, from + parsed.consumed);
    return out.get(record.id);
  }

  private record(
    record: SessionRecord,
    events: HookEvent[],
    screen: Memory['screen'] | undefined,
    alive: boolean,
    now: number,
    out: Map<string, ActivityFields>,
    cursor?: number,
  ): void {
    const memory = memoryOf(record);
    const agent = agentPlugin(record.agent).activity;
    const evidence: ScreenEvidence | undefined = screen ? { changedAt: screen.changedAt, ...(screen.readMark === screen.mark ? { reading: screen.reading } : {}) } : undefined;
    const steps = classifySteps(memory?.state, { events, screen: evidence, alive, hooks: agent.hooks, now, rules: this.rules });
    const state = steps.at(-1)!;
    const next: Memory = { state, cursor: cursor ?? memory?.cursor ?? 0, ...(screen ? { screen } : {}) };
    const agentSessionId = [...events].reverse().find((e) => e.agentSessionId)?.agentSessionId;
    const fields: ActivityFields = {
      activity: state.activity,
      activity_since: new Date(state.since).toISOString(),
      agent_session_id: agentSessionId ?? record.agent_session_id,
    };
    const text = JSON.stringify(next);
    const changed = steps.some((step) => step.activity !== record.activity);
    if (text !== record.activity_state || changed || fields.agent_session_id !== record.agent_session_id) {
      const written = this.sessions.recordActivity(record.id, record.activity_state, {
        activity: fields.activity, activity_since: fields.activity_since, activity_state: text,
        ...(agentSessionId ? { agent_session_id: agentSessionId } : {}),
      });
      // Someone else recorded first (the watcher, another process): theirs stands; the next observation catches up.
      if (!written) return;
      // Every activity entered on the way is history, even when a whole turn came in one read.
      let previous = (record.activity as Activity | null) ?? null;
      let fromSince = memory ? memory.state.since : null;
      for (const step of steps) {
        if (step.activity === previous) continue;
        const since = new Date(step.since).toISOString();
        this.events.append(record.id, 'activity', {
          activity: step.activity, previous, since,
          ...(fields.agent_session_id ? { agent_session_id: fields.agent_session_id } : {}),
        });
        this.listener({ session: { ...record, ...fields, activity: step.activity, activity_since: since }, from: previous, to: step.activity, since: step.since, fromSince });
        previous = step.activity;
        fromSince = step.since;
      }
    }
    out.set(record.id, fields);
  }
}
