/**
 * Eight real processes share one ennio.db: each appends 50 events and makes 50
 * reservations against max_sessions = 3. A trigger installed before they start records
 * the active count inside every writing transaction, so "never above max" is observed
 * by SQLite itself rather than inferred from timing.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/db.js';

const WORKERS = 8;
const MAX = 3;
const WORKER = join(import.meta.dirname, 'helpers', 'store-worker.ts');

interface Outcome {
  code: number | null;
  stderr: string;
  result?: { reserved: string[]; rejected: number };
}

let root: string;
let outcomes: Outcome[];

function startWorker(home: string, id: number, goFile: string, onReady: () => void): Promise<Outcome> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, home, String(id), String(MAX), goFile], {
    cwd: join(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    const before = stdout;
    stdout += d.toString();
    if (!before.includes('ready\n') && stdout.includes('ready\n')) onReady();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      const out: Outcome = { code, stderr };
      if (last.startsWith('{')) out.result = JSON.parse(last) as Outcome['result'];
      resolve(out);
    });
  });
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ennio-race-'));
  const home = join(root, 'home');
  const goFile = join(root, 'go');
  const store = openStore(home);
  store.db.exec(`
    CREATE TABLE watermark (n INTEGER NOT NULL);
    CREATE TRIGGER race_insert AFTER INSERT ON sessions WHEN NEW.project = 'race' BEGIN
      INSERT INTO watermark SELECT count(*) FROM sessions WHERE project = 'race' AND status IN ('spawning', 'running');
    END;
    CREATE TRIGGER race_update AFTER UPDATE OF status ON sessions WHEN NEW.project = 'race' BEGIN
      INSERT INTO watermark SELECT count(*) FROM sessions WHERE project = 'race' AND status IN ('spawning', 'running');
    END;
  `);
  store.close();
  let ready = 0;
  let release: () => void = () => undefined;
  const allReady = new Promise<void>((r) => (release = r));
  const runs = Array.from({ length: WORKERS }, (_, i) =>
    startWorker(home, i, goFile, () => {
      if (++ready === WORKERS) release();
    }),
  );
  // If a worker dies before "ready", its outcome still arrives and the asserts report it.
  await Promise.race([allReady, Promise.all(runs)]);
  writeFileSync(goFile, 'go');
  outcomes = await Promise.all(runs);
}, 120_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('store under concurrent processes', () => {
  it('every worker finished cleanly', () => {
    for (const o of outcomes) {
      expect(o.stderr).toBe('');
      expect(o.code).toBe(0);
      expect(o.result).toBeDefined();
    }
  });

  it('loses no record and admits no more than max_sessions', () => {
    const store = openStore(join(root, 'home'));
    try {
      expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');

      const reserved = outcomes.flatMap((o) => o.result?.reserved ?? []);
      const rejected = outcomes.reduce((n, o) => n + (o.result?.rejected ?? 0), 0);
      expect(reserved.length + rejected).toBe(WORKERS * 50);
      // Odd reservations never free their slot, so at most MAX of them can succeed.
      expect(rejected).toBeGreaterThan(0);

      const rows = store.sessions.list({ project: 'race' });
      expect(rows.map((r) => r.id).sort()).toEqual([...reserved].sort());
      for (const r of rows) {
        const seq = Number(r.id.split('-').pop());
        expect(r.status).toBe(seq % 2 === 0 ? 'exited' : 'running');
      }
      expect(store.sessions.countActive('race')).toBeLessThanOrEqual(MAX);

      const marks = store.db.prepare('SELECT max(n) AS top, count(*) AS writes FROM watermark').get() as { top: number; writes: number };
      expect(marks.top).toBe(MAX);
      expect(marks.writes).toBe(reserved.length * 2);

      for (let w = 0; w < WORKERS; w++) {
        const events = store.events.list(`worker-${w}`, 1000);
        expect(events.map((e) => e.detail['seq'])).toEqual(Array.from({ length: 50 }, (_, j) => j));
      }
      expect(store.events.list(undefined, 10_000)).toHaveLength(WORKERS * 50);
    } finally {
      store.close();
    }
  });
});
