import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/db.js';
import type { Store } from '../src/store/db.js';
import type { EventType } from '../src/store/events.js';

let root: string;
let store: Store;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'ennio-events-'));
  store = openStore(root);
});
afterEach(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});

describe('EventRepo', () => {
  it('appends and lists events with their detail', () => {
    const e = store.events.append('s1', 'spawned', { branch: 'ennio/s1', n: 2 });
    store.events.append('s2', 'killed');
    expect(e).toMatchObject({ session_id: 's1', type: 'spawned', detail: { branch: 'ennio/s1', n: 2 } });
    expect(store.events.list('s1')).toEqual([e]);
    expect(store.events.list().map((x) => x.session_id)).toEqual(['s1', 's2']);
    expect(store.events.list('s2')[0]?.detail).toEqual({});
  });

  it('returns the newest `limit` events, oldest first', () => {
    for (let i = 0; i < 10; i++) store.events.append('s1', 'message_sent', { i });
    expect(store.events.list('s1', 3).map((x) => x.detail['i'])).toEqual([7, 8, 9]);
    expect(store.events.list(undefined, 2).map((x) => x.detail['i'])).toEqual([8, 9]);
  });

  it('keeps history after the session record is deleted', () => {
    store.sessions.insert({
      id: 's1', project: 'p', status: 'running', agent: 'aider', runtime_name: 'tmux', backend: 'local', host: 'local',
      branch: 'b', workspace_path: '/w', workspace_type: 'clone', repo_path: '/r',
    });
    store.events.append('s1', 'killed', {});
    store.sessions.delete('s1');
    store.events.append('s1', 'error', { during: 'spawn' });
    expect(store.events.list('s1').map((x) => x.type)).toEqual(['killed', 'error']);
  });

  it('rejects an unknown event type with INVALID_ARGUMENT', () => {
    expect(() => store.events.append('s1', 'bogus' as EventType)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(store.events.list('s1')).toEqual([]);
  });
});
