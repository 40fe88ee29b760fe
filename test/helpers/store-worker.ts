/**
 * One of several concurrent processes hammering the same store (run with `node --import tsx`).
 * argv: <home> <worker id> <max_sessions> <go file>
 * Prints "ready" once open, waits for <go file> (so all workers start together), then
 * interleaves 50 event appends with 50 reservations against project "race", and prints
 * one JSON line: { reserved: string[], rejected: number }.
 */
import { existsSync } from 'node:fs';
import { isEnnioError } from '../../src/core/errors.js';
import { openStore } from '../../src/store/db.js';

const [home, worker, maxText, goFile] = process.argv.slice(2);
if (!home || !worker || !maxText || !goFile) throw new Error('usage: store-worker <home> <worker> <max> <go-file>');
const max = Number(maxText);

const store = openStore(home);
const base = {
  agent: 'claude-code', runtime_name: 'tmux', backend: 'local', host: 'local', workspace_type: 'worktree' as const, repo_path: '/repo',
};
const own = `worker-${worker}`;
store.sessions.insert({ ...base, id: own, project: 'workers', status: 'running', branch: own, workspace_path: `/ws/${own}` });

process.stdout.write('ready\n');
const sleeper = new Int32Array(new SharedArrayBuffer(4));
while (!existsSync(goFile)) Atomics.wait(sleeper, 0, 0, 2);

const reserved: string[] = [];
let rejected = 0;
for (let j = 0; j < 50; j++) {
  store.events.append(own, 'message_sent', { worker, seq: j });
  const id = `race-${worker}-${j}`;
  try {
    store.sessions.reserve('race', max, { ...base, id, project: 'race', status: 'spawning', branch: id, workspace_path: `/ws/${id}` });
    reserved.push(id);
    // Even reservations finish (freeing the slot for others); odd ones keep it for good.
    store.sessions.update(id, { status: j % 2 === 0 ? 'exited' : 'running' });
  } catch (err) {
    if (!isEnnioError(err, 'MAX_SESSIONS')) throw err;
    rejected++;
  }
}
store.close();
process.stdout.write(`${JSON.stringify({ reserved, rejected })}\n`);
