import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnnioError } from '../src/core/errors.js';
import { ennioHome, openStore, SCHEMA_VERSION } from '../src/store/db.js';
import type { Store } from '../src/store/db.js';
import type { NewSession } from '../src/store/sessions.js';

let root: string;
let store: Store;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ennio-store-'));
  store = openStore(join(root, 'home'));
});
afterEach(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});

function session(id: string, over: Partial<NewSession> = {}): NewSession {
  return {
    id, project: 'app', status: 'spawning', agent: 'claude-code', runtime_name: 'tmux', backend: 'local', host: 'local',
    branch: `ennio/${id}`, workspace_path: `/ws/${id}`, workspace_type: 'worktree', repo_path: '/repo', ...over,
  };
}

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof EnnioError) return err.code;
    throw err;
  }
  throw new Error('expected an EnnioError');
}

describe('openStore', () => {
  it('creates ENNIO_HOME 0700 with a migrated WAL database', () => {
    expect(store.path).toBe(join(root, 'home', 'ennio.db'));
    expect(statSync(join(root, 'home')).mode & 0o777).toBe(0o700);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(store.db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('keeps data across reopen and migrates only once', () => {
    store.sessions.insert(session('s1'));
    store.close();
    store = openStore(join(root, 'home'));
    expect(store.sessions.get('s1')?.project).toBe('app');
  });

  it('refuses a database from a newer ennio', () => {
    store.db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    store.close();
    expect(errorCode(() => openStore(join(root, 'home')))).toBe('NOT_SUPPORTED');
    store = openStore(join(root, 'other'));
  });

  it('reads ENNIO_HOME, defaulting to ~/.ennio', () => {
    expect(ennioHome({ ENNIO_HOME: '/x/y' })).toBe('/x/y');
    expect(ennioHome({})).toMatch(/\/\.ennio$/);
  });
});

describe('SessionRepo', () => {
  it('inserts with defaults and gets the same record back', () => {
    const rec = store.sessions.insert(session('s1', { prompt: 'fix it', runtime_handle: '{"id":"h"}' }));
    expect(rec.created_at).toBe(rec.updated_at);
    expect(rec).toMatchObject({ issue: null, exit_code: null, info: null, prompt: 'fix it' });
    expect(store.sessions.get('s1')).toEqual(rec);
    expect(store.sessions.get('nope')).toBeUndefined();
  });

  it('lists by project and status, oldest first', () => {
    store.sessions.insert(session('b', { created_at: '2024-01-02T00:00:00.000Z', status: 'running' }));
    store.sessions.insert(session('a', { created_at: '2024-01-01T00:00:00.000Z', status: 'killed' }));
    store.sessions.insert(session('c', { project: 'other', status: 'running' }));
    expect(store.sessions.list().map((s) => s.id)).toEqual(['a', 'b', 'c']);
    expect(store.sessions.list({ project: 'app' }).map((s) => s.id)).toEqual(['a', 'b']);
    expect(store.sessions.list({ statuses: ['running'] }).map((s) => s.id)).toEqual(['b', 'c']);
    expect(store.sessions.list({ project: 'app', statuses: ['running', 'spawning'] }).map((s) => s.id)).toEqual(['b']);
    expect(store.sessions.list({ statuses: [] })).toEqual([]);
  });

  it('updates fields, bumps updated_at, and can set nullable fields back to null', () => {
    store.sessions.insert(session('s1', { created_at: '2020-01-01T00:00:00.000Z', info: '{"url":"x"}' }));
    const rec = store.sessions.update('s1', { status: 'running', runtime_handle: '{"id":"t"}', info: null, exit_code: 3 });
    expect(rec).toMatchObject({ status: 'running', runtime_handle: '{"id":"t"}', info: null, exit_code: 3 });
    expect(rec.created_at).toBe('2020-01-01T00:00:00.000Z');
    expect(rec.updated_at).not.toBe('2020-01-01T00:00:00.000Z');
    expect(store.sessions.get('s1')).toEqual(rec);
  });

  it('deletes and counts active sessions', () => {
    store.sessions.insert(session('s1', { status: 'running' }));
    store.sessions.insert(session('s2', { status: 'spawning' }));
    store.sessions.insert(session('s3', { status: 'exited' }));
    store.sessions.insert(session('s4', { status: 'running', project: 'other' }));
    expect(store.sessions.countActive('app')).toBe(2);
    expect(store.sessions.delete('s1')).toBe(true);
    expect(store.sessions.delete('s1')).toBe(false);
    expect(store.sessions.countActive('app')).toBe(1);
  });

  it('reserve inserts until max_sessions and then throws MAX_SESSIONS', () => {
    store.sessions.reserve('app', 2, session('r1'));
    store.sessions.reserve('app', 2, session('r2'));
    store.sessions.insert(session('done', { status: 'exited' }));
    let err: unknown;
    try {
      store.sessions.reserve('app', 2, session('r3'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EnnioError);
    expect((err as EnnioError).code).toBe('MAX_SESSIONS');
    expect((err as EnnioError).message).toContain('max_sessions is 2');
    expect((err as EnnioError).hint).toContain('ennio session kill');
    expect(store.sessions.get('r3')).toBeUndefined();
    store.sessions.update('r1', { status: 'killed' });
    expect(store.sessions.reserve('app', 2, session('r3')).id).toBe('r3');
    expect(store.sessions.reserve('app', undefined, session('r4')).id).toBe('r4');
    expect(store.sessions.countActive('app')).toBe(3);
  });

  it('rejects bad input with codes, not raw SQLite errors', () => {
    store.sessions.insert(session('s1'));
    expect(errorCode(() => store.sessions.insert(session('s1')))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => store.sessions.insert(session('s2', { runtime_handle: 'not json' })))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => store.sessions.update('s1', { info: '{' }))).toBe('INVALID_ARGUMENT');
    expect(errorCode(() => store.sessions.update('ghost', { status: 'killed' }))).toBe('UNKNOWN_SESSION');
    expect(store.sessions.get('s1')?.info).toBeNull();
  });

  it('reads many records in one go, and its change stamp moves with writes from here and from elsewhere', () => {
    for (let i = 0; i < 20; i++) store.sessions.insert(session(`m${i}`));
    const wanted = ['m3', 'm17', 'ghost', ...Array.from({ length: 10 }, (_, i) => `m${i}`)];
    const found = store.sessions.byId(wanted);
    expect([...found.keys()].sort()).toEqual(['m0', 'm1', 'm17', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
    expect(found.get('m17')).toEqual(store.sessions.get('m17'));
    expect([...store.sessions.byId(['m1', 'ghost']).keys()]).toEqual(['m1']);

    const before = store.sessions.changeStamp();
    expect(store.sessions.changeStamp()).toBe(before); // reading changes nothing
    store.sessions.update('m1', { status: 'running' });
    const afterOwn = store.sessions.changeStamp();
    expect(afterOwn).not.toBe(before);
    const other = openStore(join(root, 'home'));
    try {
      other.sessions.update('m2', { status: 'running' });
    } finally {
      other.close();
    }
    expect(store.sessions.changeStamp()).not.toBe(afterOwn);
  });
});

describe('batch', () => {
  it('commits the writes of a sweep, sessions and events, together, or none of them', () => {
    for (const id of ['b-1', 'b-2']) store.sessions.insert(session(id, { status: 'running' }));
    const record = (id: string, activity: 'idle' | 'working'): boolean =>
      store.sessions.recordActivity(id, store.sessions.get(id)!.activity_state, { activity, activity_since: new Date().toISOString(), activity_state: `{"${activity}":1}` });
    expect(() => store.sessions.batch(() => {
      record('b-1', 'working');
      store.events.append('b-1', 'activity', { activity: 'working' });
      throw new Error('failed half-way');
    })).toThrow('failed half-way');
    expect(store.sessions.get('b-1')!.activity_state).toBeNull();
    expect(store.events.list('b-1')).toEqual([]);
    expect(store.sessions.batch(() => [record('b-1', 'working'), record('b-2', 'idle'), store.events.append('b-2', 'activity', {}).type])).toEqual([true, true, 'activity']);
    expect([store.sessions.get('b-1')!.activity, store.sessions.get('b-2')!.activity]).toEqual(['working', 'idle']);
    expect(store.events.list('b-2').map((e) => e.type)).toEqual(['activity']);
  });
});
