/**
 * The SQLite store at $ENNIO_HOME/ennio.db. Several `ennio` processes may use it at once
 * (two terminals spawning sessions), so: WAL (readers never block the writer), a busy
 * timeout (writers wait for each other instead of failing), and schema migrations keyed
 * on PRAGMA user_version, applied in one transaction.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { EnnioError } from '../core/errors.js';
import { EventRepo } from './events.js';
import { SessionRepo } from './sessions.js';

export type Db = Database.Database;

import { ennioHome } from '../core/home.js';

export { ennioHome };

/** Each entry moves the schema from version i to i+1. Never edit a shipped entry; append. */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    project        TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('spawning','running','exited','killed','failed')),
    agent          TEXT NOT NULL,
    runtime_name   TEXT NOT NULL,
    backend        TEXT NOT NULL,
    host           TEXT NOT NULL,
    branch         TEXT NOT NULL,
    workspace_path TEXT NOT NULL,
    workspace_type TEXT NOT NULL CHECK (workspace_type IN ('worktree','clone')),
    repo_path      TEXT NOT NULL,
    runtime_handle TEXT CHECK (runtime_handle IS NULL OR json_valid(runtime_handle)),
    prompt         TEXT,
    issue          TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    exit_code      INTEGER,
    info           TEXT CHECK (info IS NULL OR json_valid(info))
  ) STRICT;
  CREATE INDEX sessions_project_status ON sessions (project, status);

  -- No foreign key to sessions on purpose: the history outlives a purged session, and a
  -- failed spawn's 'error' event is written after its reservation was deleted.
  CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    type       TEXT NOT NULL CHECK (type IN ('spawned','message_sent','killed','restored','exited','error','status')),
    detail     TEXT NOT NULL CHECK (json_valid(detail)),
    created_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX events_session ON events (session_id, id);
  `,
  // 2: what the agent is doing (src/activity), the agent's own conversation id (resume), and
  // the 'activity' event type (a CHECK cannot be altered: the events table is rebuilt).
  `
  ALTER TABLE sessions ADD COLUMN activity TEXT
    CHECK (activity IS NULL OR activity IN ('working','waiting_input','idle','exited','unknown'));
  ALTER TABLE sessions ADD COLUMN activity_since TEXT;
  ALTER TABLE sessions ADD COLUMN agent_session_id TEXT;
  ALTER TABLE sessions ADD COLUMN activity_state TEXT CHECK (activity_state IS NULL OR json_valid(activity_state));

  CREATE TABLE events_v2 (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    type       TEXT NOT NULL CHECK (type IN ('spawned','message_sent','killed','restored','exited','error','status','activity')),
    detail     TEXT NOT NULL CHECK (json_valid(detail)),
    created_at TEXT NOT NULL
  ) STRICT;
  INSERT INTO events_v2 (id, session_id, type, detail, created_at) SELECT id, session_id, type, detail, created_at FROM events;
  DROP TABLE events;
  ALTER TABLE events_v2 RENAME TO events;
  CREATE INDEX events_session ON events (session_id, id);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Bring the schema to SCHEMA_VERSION. Safe when several processes open a fresh DB at once. */
export function migrate(db: Db, file = db.name): void {
  // IMMEDIATE takes the write lock before reading user_version, so two processes cannot
  // both see version 0 and both try to create the tables.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new EnnioError('NOT_SUPPORTED', `${file} has schema version ${current}, newer than this ennio understands (${SCHEMA_VERSION})`, {
        hint: 'upgrade ennio, or point ENNIO_HOME at another directory',
      });
    }
    for (let v = current; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v] ?? '');
    if (current !== SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/** Open (creating if needed) the database file and migrate it. */
export function openDatabase(file: string): Db {
  let db: Db;
  try {
    db = new Database(file);
  } catch (err) {
    throw new EnnioError('INTERNAL', `cannot open the ennio database ${file}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
      hint: 'check that the directory exists and is writable (set ENNIO_HOME to use another one)',
    });
  }
  try {
    db.pragma('busy_timeout = 5000'); // first, so the pragmas below also wait for a busy DB
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL'); // durable enough with WAL; a crash loses at most the last commit
    db.pragma('foreign_keys = ON');
    migrate(db, file);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

export interface Store {
  db: Db;
  /** Absolute path of the database file. */
  path: string;
  sessions: SessionRepo;
  events: EventRepo;
  close(): void;
}

/** The store in `home` (default $ENNIO_HOME): creates the directory (0700) and ennio.db. */
export function openStore(home: string = ennioHome()): Store {
  const dir = resolve(home);
  try {
    // 0700: the DB holds prompts and runtime handles that other users have no business reading.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new EnnioError('INTERNAL', `cannot create ENNIO_HOME ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      cause: err,
      hint: 'set ENNIO_HOME to a writable directory',
    });
  }
  const path = join(dir, 'ennio.db');
  const db = openDatabase(path);
  return { db, path, sessions: new SessionRepo(db), events: new EventRepo(db), close: () => db.close() };
}
