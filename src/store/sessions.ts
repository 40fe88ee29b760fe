/**
 * Session records. A record is what ennio last knew for sure about a session; the session
 * manager re-checks liveness against the real runtime before trusting `running`.
 */
import type Database from 'better-sqlite3';
import { EnnioError } from '../core/errors.js';
import type { WorkspaceType } from '../config/schema.js';

export type SessionStatus = 'spawning' | 'running' | 'exited' | 'killed' | 'failed';
export const SESSION_STATUSES: readonly SessionStatus[] = ['spawning', 'running', 'exited', 'killed', 'failed'];
/** Statuses that hold a slot against max_sessions. */
export const ACTIVE_STATUSES: readonly SessionStatus[] = ['spawning', 'running'];
/** Statuses from which `session restore` relaunches the agent. */
export const RESTORABLE_STATUSES: readonly SessionStatus[] = ['exited', 'killed', 'failed'];

export interface SessionRecord {
  id: string;
  project: string;
  status: SessionStatus;
  agent: string;
  runtime_name: string;
  /** 'local', 'ssh:tmux', 'ssh:node'… */
  backend: string;
  /** Host label for messages ('local', 'deploy@build:22'). */
  host: string;
  branch: string;
  workspace_path: string;
  workspace_type: WorkspaceType;
  repo_path: string;
  /** JSON text, opaque to the store; null until the runtime exists. */
  runtime_handle: string | null;
  prompt: string | null;
  issue: string | null;
  /** ISO 8601. */
  created_at: string;
  updated_at: string;
  exit_code: number | null;
  /** JSON text of extra facts (share URLs…). */
  info: string | null;
  /** What the agent is doing (src/activity/types.ts Activity); null until observed. */
  activity: string | null;
  /** ISO 8601: when it entered that activity. */
  activity_since: string | null;
  /** The agent's own conversation id (claude's session_id), for resuming it. */
  agent_session_id: string | null;
  /** JSON text: the activity tracker's memory (state-file cursor, screen) — internal, never shown. */
  activity_state: string | null;
}

type Defaulted = 'created_at' | 'updated_at' | 'runtime_handle' | 'prompt' | 'issue' | 'exit_code' | 'info' | 'activity' | 'activity_since' | 'agent_session_id' | 'activity_state';
/** What insert/reserve take: timestamps default to now, the nullable fields to null. */
export type NewSession = Omit<SessionRecord, Defaulted> & Partial<Pick<SessionRecord, Defaulted>>;
/** What update may change (id and created_at are fixed; updated_at is set automatically). */
export type SessionPatch = Partial<Omit<SessionRecord, 'id' | 'created_at' | 'updated_at'>>;

export interface ListFilter {
  project?: string | undefined;
  statuses?: readonly SessionStatus[] | undefined;
}

const COLUMNS = [
  'id', 'project', 'status', 'agent', 'runtime_name', 'backend', 'host', 'branch', 'workspace_path', 'workspace_type',
  'repo_path', 'runtime_handle', 'prompt', 'issue', 'created_at', 'updated_at', 'exit_code', 'info',
  'activity', 'activity_since', 'agent_session_id', 'activity_state',
] as const satisfies readonly (keyof SessionRecord)[];
const PATCHABLE = new Set<string>(COLUMNS.filter((c) => c !== 'id' && c !== 'created_at' && c !== 'updated_at'));

/** The SET clause and its named parameters for a patch (updated_at always bumped). */
function patchSql(patch: SessionPatch): { sets: string; params: Record<string, unknown> } {
  const keys = Object.keys(patch).filter((k) => PATCHABLE.has(k) && patch[k as keyof SessionPatch] !== undefined);
  const sets = [...keys.map((k) => `${k} = @${k}`), 'updated_at = @updated_at'].join(', ');
  return { sets, params: { ...Object.fromEntries(keys.map((k) => [k, patch[k as keyof SessionPatch]])), updated_at: new Date().toISOString() } };
}

function complete(rec: NewSession): SessionRecord {
  const now = new Date().toISOString();
  return {
    ...rec,
    created_at: rec.created_at ?? now,
    updated_at: rec.updated_at ?? rec.created_at ?? now,
    runtime_handle: rec.runtime_handle ?? null,
    prompt: rec.prompt ?? null,
    issue: rec.issue ?? null,
    exit_code: rec.exit_code ?? null,
    info: rec.info ?? null,
    activity: rec.activity ?? null,
    activity_since: rec.activity_since ?? null,
    agent_session_id: rec.agent_session_id ?? null,
    activity_state: rec.activity_state ?? null,
  };
}

function sqliteCode(err: unknown): unknown {
  return err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
}

/** A CHECK failure (bad status, invalid JSON in runtime_handle/info) is a caller bug: say which. */
function checked<T>(id: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (sqliteCode(err) === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      throw new EnnioError('INVALID_ARGUMENT', `a session with id ${id} already exists`, { cause: err, hint: 'use a new session id' });
    }
    if (sqliteCode(err) === 'SQLITE_CONSTRAINT_CHECK') {
      throw new EnnioError('INVALID_ARGUMENT', `session ${id} rejected by the store: ${(err as Error).message}`, {
        cause: err,
        hint: `status must be one of ${SESSION_STATUSES.join(', ')}; runtime_handle and info must be JSON text or null`,
      });
    }
    throw err;
  }
}

export class SessionRepo {
  private readonly insertStmt: Database.Statement;
  private readonly getStmt: Database.Statement<[string], SessionRecord>;
  private readonly allStmt: Database.Statement<[], SessionRecord>;
  private readonly stampStmts: [Database.Statement<[], number>, Database.Statement<[], number>];
  private readonly countStmt: Database.Statement<[string], { n: number }>;
  private readonly reserveTx: (project: string, max: number | undefined, record: SessionRecord) => void;
  private readonly batchTx: (fn: () => unknown) => unknown;
  private readonly activityStmt: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.batchTx = db.transaction((fn: () => unknown) => fn());
    this.insertStmt = db.prepare(`INSERT INTO sessions (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')})`);
    this.getStmt = db.prepare<[string], SessionRecord>('SELECT * FROM sessions WHERE id = ?');
    this.allStmt = db.prepare<[], SessionRecord>('SELECT * FROM sessions');
    // Prepared once: a first sweep records 1,000 of these.
    this.activityStmt = db.prepare(
      `UPDATE sessions SET activity = @activity, activity_since = @activity_since, activity_state = @activity_state,
         agent_session_id = coalesce(@agent_session_id, agent_session_id)
       WHERE id = @id AND activity_state IS @expected`,
    );
    this.stampStmts = [db.prepare<[], number>('PRAGMA data_version').pluck(), db.prepare<[], number>('SELECT total_changes()').pluck()];
    this.countStmt = db.prepare<[string], { n: number }>(
      `SELECT count(*) AS n FROM sessions WHERE project = ? AND status IN (${ACTIVE_STATUSES.map((s) => `'${s}'`).join(', ')})`,
    );
    const reserve = db.transaction((project: string, max: number | undefined, record: SessionRecord) => {
      const active = this.countActive(project);
      if (max !== undefined && active >= max) {
        throw new EnnioError('MAX_SESSIONS', `project ${project} already has ${active} active session(s), its max_sessions is ${max}`, {
          hint: `kill one (ennio session kill <id>), run ennio session cleanup, or raise max_sessions for ${project} in ennio.yaml`,
        });
      }
      this.write(record);
    });
    // IMMEDIATE: the write lock is taken before counting, so no other process can insert
    // between our count and our insert (a DEFERRED transaction would allow exactly that).
    this.reserveTx = (project, max, record) => reserve.immediate(project, max, record);
  }

  private write(record: SessionRecord): void {
    checked(record.id, () => this.insertStmt.run(record));
  }

  insert(record: NewSession): SessionRecord {
    const full = complete(record);
    this.write(full);
    return full;
  }

  /**
   * Insert `record` only if `project` has fewer than `max` active (spawning|running)
   * sessions, atomically across processes. `max` undefined means no limit.
   * Throws MAX_SESSIONS when full.
   */
  reserve(project: string, max: number | undefined, record: NewSession): SessionRecord {
    const full = complete({ ...record, project });
    this.reserveTx(project, max, full);
    return full;
  }

  get(id: string): SessionRecord | undefined {
    return this.getStmt.get(id);
  }

  /**
   * Changes whenever the store may hold something new: another process committed (SQLite's
   * data_version) or this connection wrote (total_changes). Equal stamps: nothing to re-read.
   */
  changeStamp(): string {
    return `${this.stampStmts[0].get() ?? 0}:${this.stampStmts[1].get() ?? 0}`;
  }

  /** The records of `ids` that exist, in one query (a handful: one lookup each; many: one scan). */
  byId(ids: readonly string[]): Map<string, SessionRecord> {
    const out = new Map<string, SessionRecord>();
    if (ids.length <= 8) {
      for (const id of ids) {
        const r = this.get(id);
        if (r) out.set(id, r);
      }
      return out;
    }
    const wanted = new Set(ids);
    for (const r of this.allStmt.all()) if (wanted.has(r.id)) out.set(r.id, r);
    return out;
  }

  /** Oldest first. */
  list(filter: ListFilter = {}): SessionRecord[] {
    const where: string[] = [];
    const params: string[] = [];
    if (filter.project !== undefined) {
      where.push('project = ?');
      params.push(filter.project);
    }
    if (filter.statuses !== undefined) {
      if (filter.statuses.length === 0) return [];
      where.push(`status IN (${filter.statuses.map(() => '?').join(', ')})`);
      params.push(...filter.statuses);
    }
    const sql = `SELECT * FROM sessions${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`;
    return this.db.prepare<string[], SessionRecord>(sql).all(...params);
  }

  /** Apply `patch`, bump updated_at, return the new record. Throws UNKNOWN_SESSION. */
  update(id: string, patch: SessionPatch): SessionRecord {
    const { sets, params } = patchSql(patch);
    const res = checked(id, () => this.db.prepare(`UPDATE sessions SET ${sets} WHERE id = @id`).run({ ...params, id }));
    const rec = res.changes === 0 ? undefined : this.get(id);
    if (!rec) throw new EnnioError('UNKNOWN_SESSION', `no session ${id} in the store`, { hint: 'list sessions with: ennio session ls' });
    return rec;
  }

  /**
   * Record what the activity tracker observed, only if nobody recorded something else since
   * it read `expectedState` (two observers — a sweep and a hook watcher, or two processes —
   * must not both report one transition). updated_at stays: activity is not a record change.
   * True when written.
   */
  recordActivity(
    id: string,
    expectedState: string | null,
    patch: Pick<SessionRecord, 'activity' | 'activity_since' | 'activity_state'> & Partial<Pick<SessionRecord, 'agent_session_id'>>,
  ): boolean {
    const res = this.activityStmt.run({ ...patch, agent_session_id: patch.agent_session_id ?? null, id, expected: expectedState });
    return res.changes > 0;
  }

  /**
   * Apply `patch` only while the record still has status `from` (a sweep that saw the
   * agent gone must not overwrite a kill or restore that happened meanwhile). True when applied.
   */
  transition(id: string, from: SessionStatus, patch: SessionPatch): boolean {
    const { sets, params } = patchSql(patch);
    return this.db.prepare(`UPDATE sessions SET ${sets} WHERE id = @id AND status = @from`).run({ ...params, id, from }).changes > 0;
  }

  /** True when a record was deleted. */
  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM sessions WHERE id = ?').run(id).changes > 0;
  }

  /**
   * Runs `fn` as one transaction (with the events written meanwhile: one database). A sweep
   * recording the activity of 1,000 sessions commits once instead of 1,000 times (88 → 38 ms
   * on a temp store; the first sweep of an orchestrator writes every session's activity).
   */
  batch<T>(fn: () => T): T {
    return this.batchTx(fn) as T;
  }

  /** Sessions of `project` holding a slot (spawning or running). */
  countActive(project: string): number {
    return this.countStmt.get(project)?.n ?? 0;
  }
}
