/**
 * An append-only history of what happened to sessions (for `ennio session info` and for
 * finding out afterwards why something failed). Rows are never updated.
 */
import type Database from 'better-sqlite3';
import { EnnioError } from '../core/errors.js';

export type EventType = 'spawned' | 'message_sent' | 'killed' | 'restored' | 'exited' | 'error' | 'status' | 'activity';
export const EVENT_TYPES: readonly EventType[] = ['spawned', 'message_sent', 'killed', 'restored', 'exited', 'error', 'status', 'activity'];

export type EventDetail = Record<string, unknown>;

export interface EventRecord {
  id: number;
  session_id: string;
  type: EventType;
  detail: EventDetail;
  /** ISO 8601. */
  created_at: string;
}

interface EventRow {
  id: number;
  session_id: string;
  type: EventType;
  detail: string;
  created_at: string;
}

const toRecord = (row: EventRow): EventRecord => ({ ...row, detail: JSON.parse(row.detail) as EventDetail });

export class EventRepo {
  private readonly insertStmt: Database.Statement<[string, string, string, string]>;
  private readonly bySession: Database.Statement<[string, number], EventRow>;
  private readonly all: Database.Statement<[number], EventRow>;
  private readonly afterStmt: Database.Statement<[number, number], EventRow>;

  constructor(private readonly db: Database.Database) {
    this.insertStmt = db.prepare('INSERT INTO events (session_id, type, detail, created_at) VALUES (?, ?, ?, ?)');
    // The newest `limit` rows, returned oldest first (like tail -n).
    this.bySession = db.prepare<[string, number], EventRow>(
      'SELECT * FROM (SELECT * FROM events WHERE session_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id',
    );
    this.all = db.prepare<[number], EventRow>('SELECT * FROM (SELECT * FROM events ORDER BY id DESC LIMIT ?) ORDER BY id');
    this.afterStmt = db.prepare<[number, number], EventRow>('SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?');
  }

  /** Record an event; `detail` must be JSON-serialisable. Returns the stored record. */
  append(sessionId: string, type: EventType, detail: EventDetail = {}): EventRecord {
    if (!EVENT_TYPES.includes(type)) {
      throw new EnnioError('INVALID_ARGUMENT', `unknown event type ${JSON.stringify(type)}`, { hint: `use one of ${EVENT_TYPES.join(', ')}` });
    }
    const text = JSON.stringify(detail);
    const created_at = new Date().toISOString();
    const res = this.insertStmt.run(sessionId, type, text, created_at);
    return { id: Number(res.lastInsertRowid), session_id: sessionId, type, detail: JSON.parse(text) as EventDetail, created_at };
  }

  /** The last `limit` events (of one session, or of all), oldest first. */
  list(sessionId?: string, limit = 100): EventRecord[] {
    const n = Math.max(0, Math.floor(limit));
    const rows = sessionId === undefined ? this.all.all(n) : this.bySession.all(sessionId, n);
    return rows.map(toRecord);
  }

  /** Events with an id above `afterId`, oldest first (the event stream resumes from Last-Event-ID). */
  after(afterId: number, limit = 500): EventRecord[] {
    return this.afterStmt.all(Math.max(0, Math.floor(afterId)), Math.max(1, Math.floor(limit))).map(toRecord);
  }

  /** The newest event of one type for a session. */
  lastOfType(sessionId: string, type: EventType): EventRecord | undefined {
    const row = this.db.prepare<[string, string], EventRow>('SELECT * FROM events WHERE session_id = ? AND type = ? ORDER BY id DESC LIMIT 1').get(sessionId, type);
    return row ? toRecord(row) : undefined;
  }

  /** The id of the newest event (0 when there is none). */
  lastId(): number {
    return this.all.all(1)[0]?.id ?? 0;
  }
}
