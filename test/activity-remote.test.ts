/**
 * Activity of claude-code sessions on a "remote" host (a real sshd on loopback), with the
 * strategies tmux and node: the stand-in claude runs ennio's hook there, the state file is
 * read back with the per-host probe, and `ennio status --json` shows the transitions;
 * restore continues the conversation there too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/cli.js';
import { fakeClaudeBin, fakeClaudeStarts } from './helpers/fake-claude.js';
import { createRemoteWorld, type RemoteWorld } from './helpers/remote-world.js';
import { freePort, sshdSkipReason } from './helpers/sshd.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping remote activity tests: ${skip}`);

let w: RemoteWorld;
let log: string;
let nodePort = 0;

interface Session { id: string; status: string; activity: string; agent_session_id: string | null; backend: string }
const session = (id: string): Session => {
  const res = w.run(['status', '--json']);
  if (res.code !== 0) throw new Error(`status failed: ${res.stderr}`);
  const s = (JSON.parse(res.stdout) as Session[]).find((x) => x.id === id);
  if (!s) throw new Error(`no session ${id}`);
  return s;
};
const activityOf = (id: string): string => session(id).activity;
const send = (id: string, text: string): void => {
  const res = w.run(['send', id, text]);
  if (res.code !== 0) throw new Error(`send failed: ${res.stderr}`);
};

beforeAll(async () => {
  if (skip) return;
  // The stand-in claude is first on the remote PATH (the "remote" is this machine, through sshd).
  w = await createRemoteWorld({ remoteEnv: (dir) => ({ PATH: fakeClaudeBin(dir), FAKE_CLAUDE_LOG: join(dir, 'fake-claude.log') }) });
  log = join(w.dir, 'fake-claude.log');
  nodePort = await freePort();
  const agent = ['    agent: claude-code'];
  w.writeConfig([
    'activity: { quiet_after: 2s }',
    'projects:',
    w.project('rtmux', 'tmux', '', agent),
    w.project('rnode', 'node', `      node_config: { port: ${nodePort}, idle_timeout: 600 }`, agent),
    '',
  ].join('\n'));
});
afterAll(async () => {
  if (skip) return;
  w.run(['node', 'disconnect', 'rnode', '--shutdown']);
  spawnSync('pkill', ['-f', `ennio-node.cjs --port ${nodePort} `]);
  await w.stop();
});

async function turnsAndResume(projectName: string, backend: string): Promise<void> {
  const res = w.run(['spawn', projectName, '--json', '--prompt', 'work 3']);
  if (res.code !== 0 || /error/i.test(res.stderr)) throw new Error(`spawn ${projectName}: exit ${res.code}: ${res.stderr}`);
  const id = (JSON.parse(res.stdout) as Session).id;
  expect(session(id).backend).toBe(backend);
  const stateFile = join(w.remoteDir, 'activity', `${id}.events`);
  await waitFor(() => activityOf(id) === 'idle' && existsSync(stateFile) && readFileSync(stateFile, 'utf8').includes('\tStop\t'), 'idle after the first turn', 60_000);
  const started = fakeClaudeStarts(log).filter((s) => s.cwd.endsWith(id));
  expect(started).toHaveLength(1);
  expect(session(id).agent_session_id).toBe(started[0]!.session_id);

  send(id, 'ask');
  await waitFor(() => activityOf(id) === 'waiting_input', 'waiting_input');
  send(id, '1');
  await waitFor(() => activityOf(id) === 'idle', 'idle after answering');

  send(id, 'work 600');
  await waitFor(() => activityOf(id) === 'working', 'working');
  await waitFor(() => w.tmux('capture-pane', '-p', '-t', `=${id}:`).stdout.includes('esc to interrupt'), 'the spinner');
  expect(w.tmux('send-keys', '-t', `=${id}:`, 'Escape').code).toBe(0); // same machine, same tmux socket
  await waitFor(() => activityOf(id) === 'idle', 'idle after Esc (screen read over SSH)').catch((err: unknown) => {
    const db = spawnSync('sqlite3', [join(w.home, 'ennio.db'), `select activity_state from sessions where id='${id}'`], { encoding: 'utf8' }).stdout;
    throw new Error(`${String(err)}\nstate: ${db}\nscreen: ${w.tmux('capture-pane', '-p', '-t', `=${id}:`).stdout}\nfile: ${readFileSync(stateFile, 'utf8')}`);
  });

  send(id, 'exit');
  expect(w.run(['wait', id, '--for', 'exited', '--timeout', '60']).code).toBe(0);
  expect(w.run(['session', 'restore', id]).code).toBe(0);
  await waitFor(() => fakeClaudeStarts(log).filter((s) => s.cwd.endsWith(id)).length === 2, 'the restored agent');
  expect(fakeClaudeStarts(log).filter((s) => s.cwd.endsWith(id))[1]!.argv.slice(0, 2)).toEqual(['--resume', started[0]!.session_id]);
  await waitFor(() => activityOf(id) === 'idle', 'idle after resuming');
  expect(w.run(['session', 'kill', id]).code).toBe(0);
  expect(existsSync(stateFile)).toBe(false);
}

describe.skipIf(skip)('remote activity', () => {
  it('strategy tmux: hooks on the remote host, read with the sweep probe; Esc read from the remote screen; restore resumes', async () => {
    await turnsAndResume('rtmux', 'ssh:tmux');
  }, 300_000);

  it('strategy node: the same through ennio-node\'s tmux', async () => {
    await turnsAndResume('rnode', 'ssh:node');
  }, 300_000);
});
