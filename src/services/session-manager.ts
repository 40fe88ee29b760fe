/**
 * Session lifecycle: spawn, query, drive, kill, restore, cleanup. Where a session runs
 * is the Backend's business (src/services/backends.ts); this file only sequences steps,
 * records them, and keeps the store true to what it checked. The steps with a job of their
 * own live beside it: what a sweep means for status and activity (src/lifecycle/sweep-status.ts,
 * sweep-activity.ts), talking to an agent (session-io.ts), creating a workspace and launching
 * an agent (launch.ts), removing a spawn whose process died (stale-spawn.ts).
 */
import type { EnnioConfig, ProjectConfig } from '../config/schema.js';
import { EnnioError } from '../core/errors.js';
import { defaultPrefix, newSessionId } from '../core/ids.js';
import { startTicks } from '../core/proc.js';
import { exists, joinPath } from '../ops/fs.js';
import { assertBranchName } from '../ops/branch-name.js';
import { normalizeMessage } from '../ops/message.js';
import type { SessionCheck, SweepReport } from '../lifecycle/sweep.js';
import { StatusSweep, type SessionView, type SweepPlan } from '../lifecycle/sweep-status.js';
import { handleOf } from '../strategies/handle-of.js';
// Defined with the sweep that yields them; SessionManager's callers keep importing them from here.
export type { SessionView, SweepPlan } from '../lifecycle/sweep-status.js';
import { ActivitySweep } from '../lifecycle/sweep-activity.js';
import type { EventRepo } from '../store/events.js';
import { RESTORABLE_STATUSES, type SessionRecord, type SessionRepo } from '../store/sessions.js';
import type { Backend, RuntimeHandle, TerminalSize, TerminalStream } from '../strategies/types.js';
import type { Backends } from './backends.js';
import { Interrupt } from './interrupt.js';
import { SessionIo } from './session-io.js';
import { dropStaleSpawn, spawnerGone } from './stale-spawn.js';
import { agentNameFor, assertAgentInstalled, createAndLaunch, launchAgent, repoPathFor, rollback, withCleanupProblems, type Undo } from './launch.js';
import { activityPaths } from '../activity/install.js';
import { promptedStart } from '../activity/memory.js';
import { ActivityTracker, type ActivityRound, type TransitionListener } from '../activity/tracker.js';

export interface SpawnOptions {
  prompt?: string;
  branch?: string;
  issue?: string;
  agent?: string;
}

/** A checked session whose runtime can be asked for details. */
const hasRuntime = (view: SessionView): boolean => Boolean(view.runtime_handle) && !view.unreachable && view.status !== 'killed';

export class SessionManager {
  private readonly tracker: ActivityTracker;
  private readonly statusSweep: StatusSweep;
  private readonly activitySweep: ActivitySweep;
  private readonly io: SessionIo;

  constructor(
    private readonly config: EnnioConfig,
    private readonly configDir: string,
    private readonly sessions: SessionRepo,
    private readonly events: EventRepo,
    private readonly backends: Backends,
    /** Hears every activity change (the orchestrator's notifications). */
    onActivity?: TransitionListener,
  ) {
    this.tracker = new ActivityTracker(sessions, events, config.activity, onActivity);
    const backendOf = (record: SessionRecord): Promise<Backend> => this.backendOf(record);
    this.statusSweep = new StatusSweep({ sessions, events, get: (id) => this.get(id), backendOf });
    this.activitySweep = new ActivitySweep(this.tracker, this.statusSweep, backendOf);
    this.io = new SessionIo({ events, get: (id) => this.get(id), backendOf, refresh: (record) => this.statusSweep.refresh(record) });
  }

  project(name: string): ProjectConfig {
    const project = this.config.projects.find((p) => p.name === name);
    if (!project) {
      const known = this.config.projects.map((p) => p.name);
      throw new EnnioError('UNKNOWN_PROJECT', `unknown project ${JSON.stringify(name)}`, {
        hint: known.length ? `projects in the config: ${known.join(', ')}` : 'the config has no projects yet; add one to ennio.yaml',
      });
    }
    return project;
  }

  get(id: string): SessionRecord {
    const record = this.sessions.get(id);
    if (!record) {
      throw new EnnioError('UNKNOWN_SESSION', `unknown session ${JSON.stringify(id)}`, { hint: 'list sessions with: ennio session list' });
    }
    return record;
  }

  private async backendOf(record: SessionRecord): Promise<Backend> {
    return this.backends.forProject(this.project(record.project), record.runtime_name);
  }

  async spawn(projectName: string, given: SpawnOptions = {}): Promise<SessionRecord> {
    // Bad input is refused before any host is contacted or anything is created.
    if (given.branch !== undefined) assertBranchName(given.branch);
    const options = given.prompt === undefined ? given : { ...given, prompt: normalizeMessage(given.prompt) };
    const project = this.project(projectName);
    const agent = agentNameFor(this.config, project, options.agent);
    const backend = await this.backends.forProject(project);
    const host = backend.host;
    const prefix = project.session_prefix ?? defaultPrefix(project.name);
    let id = newSessionId(prefix);
    while (this.sessions.get(id)) id = newSessionId(prefix);
    const branch = options.branch ?? `ennio/${id}`;
    assertBranchName(branch); // the default too: a long session_prefix makes it long
    await assertAgentInstalled(backend, project, agent);
    const repoPath = await repoPathFor(host, project, this.configDir);
    const workspaceType = project.workspace ?? this.config.defaults.workspace;
    const workspacePath = joinPath(await backend.workspaces.workspaceRoot(project.name), id);
    const now = new Date().toISOString();
    // Reserved first, inside one transaction, so concurrent spawns cannot pass max_sessions.
    const prompted = options.prompt ? promptedStart(Date.now()) : undefined;
    this.sessions.reserve(project.name, project.max_sessions, {
      id, project: project.name, status: 'spawning', agent, runtime_name: backend.runtime.name, backend: backend.kind,
      host: host.label, branch, workspace_path: workspacePath, workspace_type: workspaceType, repo_path: repoPath,
      runtime_handle: null, prompt: options.prompt ?? null, issue: options.issue ?? null, created_at: now, updated_at: now,
      // Who is spawning it: `session cleanup` removes a spawning record only once this process is gone.
      exit_code: null, info: JSON.stringify({ spawner: { pid: process.pid, start: startTicks(process.pid) ?? '' } }),
      // Working on its prompt from the start: the agent's first hook (SessionStart) must not make it look idle.
      ...prompted,
    });
    if (prompted) this.events.append(id, 'activity', { activity: prompted.activity, previous: null, since: prompted.activity_since });
    const undos: Undo[] = [];
    const interrupt = new Interrupt();
    try {
      const handle = await createAndLaunch(backend, project, { id, agent, branch, repoPath, workspacePath, workspaceType, reuseBranch: false, issue: options.issue, prompt: options.prompt }, undos, interrupt);
      interrupt.check();
      this.sessions.update(id, { status: 'running', runtime_handle: JSON.stringify(handle), info: null });
      this.events.append(id, 'spawned', { project: project.name, agent, branch, host: host.label, backend: backend.kind });
      return this.get(id);
    } catch (err) {
      const problems = await rollback(undos);
      this.sessions.delete(id);
      this.events.append(id, 'error', { during: 'spawn', message: err instanceof Error ? err.message : String(err), cleanup_problems: problems });
      interrupt.check(problems); // a step that failed because of the signal reports the signal
      throw withCleanupProblems(err, problems);
    } finally {
      interrupt.dispose();
    }
  }

  /** Sessions with their status checked against the runtime (running → exited when the agent is gone). */
  async list(projectName?: string): Promise<SessionView[]> {
    return this.activitySweep.run(await this.planSweep(projectName));
  }

  /** Named sessions checked now (liveness and activity), in the order asked. */
  async check(ids: string[]): Promise<SessionView[]> {
    return this.activitySweep.run(await this.statusSweep.plan(ids.map((id) => this.get(id))));
  }

  /** The activity probes and asks to add to a sweep (src/lifecycle/sweep-activity.ts). */
  planActivity(plan: SweepPlan): Promise<ActivityRound> {
    return this.activitySweep.plan(plan);
  }

  /** After the sweep: the views with what their agents do (unreachable hosts keep the last known). */
  finishActivity(activity: ActivityRound, views: SessionView[], report: Pick<SweepReport, 'hosts'>): Promise<SessionView[]> {
    return this.activitySweep.finish(activity, views, report);
  }

  /** When ennio last typed a message into the session (ms), if ever. */
  lastMessageAt(id: string): number | undefined {
    const sent = this.events.lastOfType(id, 'message_sent');
    return sent ? Date.parse(sent.created_at) : undefined;
  }

  /** Changes whenever the store may hold something new (SessionRepo.changeStamp). */
  storeStamp(): string {
    return this.sessions.changeStamp();
  }

  /**
   * Views from an earlier sweep with what the store holds now: activity from hooks seen
   * since (the watcher), a status another request checked meanwhile (wait, info). What only
   * the sweep knows (unreachable) stays.
   */
  latestRecords<T extends SessionRecord>(views: T[]): T[] {
    // One query for all of them: `status` of 1,000 sessions asked 1,000 single-row queries (~20 ms).
    const now = this.sessions.byId(views.map((v) => v.id));
    return views.flatMap((v) => {
      const r = now.get(v.id);
      return r ? [{ ...v, ...r }] : [];
    });
  }

  /**
   * New hook lines of a local session (the orchestrator's file watcher calls this the moment
   * its state file changes). False when the session is not one of this config's local ones.
   */
  async ingestHooks(id: string): Promise<boolean> {
    const record = this.sessions.get(id);
    if (!record || (record.status !== 'running' && record.status !== 'spawning')) return false;
    const project = this.config.projects.find((p) => p.name === record.project);
    if (!project || project.ssh_config) return false;
    const backend = await this.backendOf(record);
    const paths = await activityPaths(backend.host, backend.dataDir, id);
    this.tracker.ingestLocal(record, paths.stateFile);
    return true;
  }

  /**
   * This config's sessions (one project's, with a name) and the sweep targets for the
   * running ones. The orchestrator merges the plans of every config it serves into one
   * sweep, so a host shared by several configs still gets one command.
   */
  async planSweep(projectName?: string): Promise<SweepPlan> {
    if (projectName) this.project(projectName);
    // The store is shared by every config; a config shows the sessions of its own projects.
    const ours = new Set(this.config.projects.map((p) => p.name));
    const records = this.sessions.list(projectName ? { project: projectName } : {}).filter((r) => ours.has(r.project));
    return this.statusSweep.plan(records);
  }

  /** What the sweep saw, applied to the store (src/lifecycle/sweep-status.ts): running → exited, or unreachable. */
  applySweep(plan: SweepPlan, checks: ReadonlyMap<string, SessionCheck>): SessionView[] {
    return this.statusSweep.apply(plan, checks);
  }

  async info(id: string): Promise<SessionView & { runtime_info: Record<string, string> }> {
    const record = this.get(id);
    // The check and the runtime's details are a round trip each to the same host: both at
    // once (pooled channels), the details used only if the check finds the session there.
    const details = record.runtime_handle && record.status !== 'killed' ? this.runtimeDetails(record) : undefined;
    details?.catch(() => {}); // its error matters only if used, below
    const [view] = (await this.check([id])) as [SessionView];
    return { ...view, runtime_info: (hasRuntime(view) ? await details : undefined) ?? {} };
  }

  /** info() of a session checked already (the orchestrator's latest sweep): one round trip less. */
  async infoOf(view: SessionView): Promise<SessionView & { runtime_info: Record<string, string> }> {
    return { ...view, runtime_info: hasRuntime(view) ? await this.runtimeDetails(view) : {} };
  }

  private async runtimeDetails(record: SessionRecord): Promise<Record<string, string>> {
    const backend = await this.backendOf(record);
    return (await backend.runtime.info?.(handleOf(record))) ?? {};
  }

  /**
   * Type the message in and submit it; resolves with the bytes sent (after CRLF → LF).
   * A dead session is refused with SESSION_STATE (src/services/session-io.ts).
   */
  send(id: string, raw: string): Promise<number> {
    return this.io.send(id, raw);
  }

  /** Output of a session; a killed session has none (its runtime is gone). */
  logs(id: string, lines: number): Promise<string> {
    return this.io.logs(id, lines);
  }

  attachArgv(id: string): Promise<string[]> {
    return this.io.attachArgv(id);
  }

  /** The session's terminal, streamed; an exited agent's last screen is still there (remain-on-exit). */
  openTerminal(id: string, size: TerminalSize): Promise<TerminalStream> {
    return this.io.openTerminal(id, size);
  }

  /** Stop the agent and remove the workspace; keep the branch and the record. */
  async kill(id: string): Promise<SessionRecord> {
    const record = this.get(id);
    if (record.status === 'killed') throw new EnnioError('SESSION_STATE', `session ${id} is already killed`);
    const backend = await this.backendOf(record);
    if (record.runtime_handle) await backend.runtime.destroy(handleOf(record));
    await backend.workspaces.remove({ type: record.workspace_type, repoPath: record.repo_path, workspacePath: record.workspace_path });
    const { stateFile } = await activityPaths(backend.host, backend.dataDir, id);
    await backend.host.exec(['rm', '-f', '--', stateFile]);
    this.sessions.update(id, { status: 'killed', activity: 'exited', activity_since: new Date().toISOString(), activity_state: null });
    this.events.append(id, 'killed', {});
    return this.get(id);
  }

  /** Relaunch the agent in the kept workspace, or in a new one on the session's branch. */
  async restore(id: string): Promise<SessionRecord> {
    const record = await this.statusSweep.refresh(this.get(id));
    if (!RESTORABLE_STATUSES.includes(record.status)) {
      throw new EnnioError('SESSION_STATE', `session ${id} is ${record.status}; only exited, killed or failed sessions can be restored`);
    }
    const project = this.project(record.project);
    const backend = await this.backendOf(record);
    if (record.runtime_handle) await backend.runtime.destroy(handleOf(record));
    const undos: Undo[] = [];
    const interrupt = new Interrupt();
    try {
      let handle: RuntimeHandle;
      const env = { ENNIO_SESSION_ID: id, ENNIO_PROJECT: project.name, ENNIO_WORKSPACE: record.workspace_path, ENNIO_BRANCH: record.branch, ...(record.issue ? { ENNIO_ISSUE: record.issue } : {}) };
      // The agent continues its own conversation when it recorded one (claude --resume <id>).
      const resume = record.agent_session_id ?? undefined;
      // A new process starts a new activity history (its state file is emptied at launch).
      this.sessions.update(id, { activity: 'unknown', activity_since: new Date().toISOString(), activity_state: null });
      if (await exists(backend.host, record.workspace_path)) {
        handle = await launchAgent(backend, { sessionId: id, project, agent: record.agent, workspace: record.workspace_path, env, ...(resume ? { resume } : {}) }, undos);
      } else {
        handle = await createAndLaunch(backend, project, {
          id, agent: record.agent, branch: record.branch, repoPath: record.repo_path, workspacePath: record.workspace_path,
          workspaceType: record.workspace_type, reuseBranch: true, resume,
        }, undos, interrupt);
      }
      interrupt.check();
      this.sessions.update(id, { status: 'running', runtime_handle: JSON.stringify(handle), exit_code: null });
      this.events.append(id, 'restored', resume ? { resumed: resume } : {});
      return this.get(id);
    } catch (err) {
      const problems = await rollback(undos);
      this.events.append(id, 'error', { during: 'restore', message: err instanceof Error ? err.message : String(err), cleanup_problems: problems });
      interrupt.check(problems);
      throw withCleanupProblems(err, problems);
    } finally {
      interrupt.dispose();
    }
  }

  /** Kill sessions whose agent has exited (freeing their workspaces); with purge, forget killed ones. */
  async cleanup(purge: boolean): Promise<{ killed: string[]; purged: string[] }> {
    const killed: string[] = [];
    for (const s of await this.list()) {
      if (s.status === 'exited' || s.status === 'failed') killed.push((await this.kill(s.id)).id);
      else if (s.status === 'spawning' && spawnerGone(s)) killed.push(await dropStaleSpawn(s, await this.backendOf(s), this.sessions, this.events));
    }
    const purged: string[] = [];
    if (purge) {
      const ours = new Set(this.config.projects.map((p) => p.name));
      for (const s of this.sessions.list({ statuses: ['killed'] }).filter((r) => ours.has(r.project))) {
        this.sessions.delete(s.id);
        purged.push(s.id);
      }
    }
    return { killed, purged };
  }

  recentEvents(id: string, limit = 20): ReturnType<EventRepo['list']> {
    return this.events.list(id, limit);
  }
}
