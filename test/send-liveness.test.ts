/**
 * `send` checks liveness once, in the runtime (no sweep first): a session whose agent died
 * since the last status is refused as "exited", nothing is typed, and the record says so.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/db.js';
import { createWorld, demoProject, waitFor, type World } from './helpers/cli.js';

describe('send to a session whose agent died unseen', () => {
  let w: World;
  let id: string;

  beforeAll(() => {
    w = createWorld();
    w.makeRepo();
    w.writeConfig(demoProject());
    const spawned = w.run(['spawn', 'app', '--json']);
    expect(spawned.code).toBe(0);
    id = (JSON.parse(spawned.stdout) as { id: string }).id;
  });
  afterAll(() => w?.cleanup());

  const paneDead = (): boolean => w.tmux('display-message', '-p', '-t', `=${id}:`, '#{pane_dead}').stdout.trim() === '1';
  const stored = (): { status: string; exit_code: number | null } => {
    const store = openStore(w.home);
    try {
      return store.sessions.get(id)!;
    } finally {
      store.close();
    }
  };

  it('is refused as exited, and the record is exited with the exit status', async () => {
    await waitFor(() => w.run(['logs', id]).stdout.includes('demo-agent ready'), 'the agent to start');
    expect(w.run(['send', id, 'exit 3']).code).toBe(0);
    await waitFor(paneDead, 'the agent to exit');
    expect(stored().status).toBe('running'); // nobody looked since
    const send = w.run(['send', id, 'anyone there?']);
    expect(send.code).not.toBe(0);
    expect(send.stderr).toContain(`session ${id} is exited, not running`);
    expect(send.stderr).toContain(`ennio session restore ${id}`);
    // The exit status is recorded when tmux has reported it by then; the state is what must hold.
    expect(stored().status).toBe('exited');
  });
});
