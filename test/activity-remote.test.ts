/**
 * Activity of claude-code sessions on a "remote" host (a real sshd on loopback), with the
 * strategies tmux, tmate, remote_control and node: the stand-in claude runs ennio's hook
 * there, and `ennio status --json` shows the transitions; restore continues the
 * conversation there too. The state files of tmux, tmate and remote_control sessions are
 * read by the per-host sweep probe (over SSH); those of node sessions by ennio-node, in
 * its ListRuntimes call — a `tail` on the remote PATH logs every state file the probe reads,
 * and the daemon's debug log every ListRuntimes with what it read.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/cli.js';
import { fakeClaudeBin, fakeClaudeStarts } from './helpers/fake-claude.js';
import { createRemoteWorld, type RemoteWorld } from './helpers/remote-world.js';
import { freePort, sshdSkipReason } from './helpers/sshd.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping remote activity tests: ${skip}`);
const tmateMissing = spawnSync('sh', ['-c', 'command -v tmate'], { encoding: 'utf8' }).status !== 0;
if (!skip && tmateMissing) console.log('skipping the tmate activity test: tmate is not installed (Debian: apt-get install tmate)');

let w: RemoteWorld;
let log: string;
let nodePort = 0;
let probeReads: string;

/** A `tail` that logs the state files it reads (only the SSH activity probe tails them), then tails. */
function loggingTail(dir: string): string {
  const bin = join(dir, 'probe-bin');
  mkdirSync(bin, { recursive: true });
  const tail = spawnSync('sh', ['-c', 'command -v tail'], { encoding: 'utf8' }).stdout.trim();
  writeFileSync(join(bin, 'tail'), [
    '#!/bin/sh',
    `for a do case $a in *.events) printf '%s\\n' "$a" >> ${JSON.stringify(join(dir, 'probe-reads.log'))} ;; esac; done`,
    `exec ${JSON.stringify(tail)} "$@"`,
    '',
  ].join('\n'));
  chmodSync(join(bin, 'tail'), 0o755);
  return bin;
}
/** How often the SSH probe read a session's state file. */
const probeReadsOf = (id: string): number => (existsSync(probeReads) ? readFileSync(probeReads, 'utf8').split('\n').filter((l) => l.endsWith(`/activity/${id}.events`)).length : 0);
/** The daemon's ListRuntimes calls (its debug log: ENNIO_NODE_DEBUG=1 on the remote). */
const listRuntimesCalls = (): Array<{ runtimes: number; activity_read: number; activity_bytes: number }> => {
  const file = join(w.remoteDir, 'node', `daemon-${nodePort}.log`);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('"msg":"ListRuntimes"')).map((l) => JSON.parse(l) as { runtimes: number; activity_read: number; activity_bytes: number });
};

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
  w = await createRemoteWorld({
    remoteEnv: (dir) => ({ PATH: `${fakeClaudeBin(dir)}:${loggingTail(dir)}`, FAKE_CLAUDE_LOG: join(dir, 'fake-claude.log'), ENNIO_NODE_DEBUG: '1' }),
  });
  log = join(w.dir, 'fake-claude.log');
  probeReads = join(w.dir, 'probe-reads.log');
  nodePort = await freePort();
  const agent = ['    agent: claude-code'];
  w.writeConfig([
    'activity: { quiet_after: 2s }',
    'projects:',
    w.project('rtmux', 'tmux', '', agent),
    w.project('rtmate', 'tmate', '      tmate: { url_timeout: 2s }', agent),
    w.project('rrc', 'remote_control', '', agent),
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

/** A spawned session's first turn (idle after it, its conversation recorded) and a question answered. */
async function firstTurns(projectName: string, backend: string): Promise<{ id: string; stateFile: string; conversation: string }> {
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
  return { id, stateFile, conversation: started[0]!.session_id };
}

async function turnsAndResume(projectName: string, backend: string): Promise<string> {
  const { id, stateFile, conversation } = await firstTurns(projectName, backend);
  send(id, 'work 600');
  await waitFor(() => activityOf(id) === 'working', 'working');
  await waitFor(() => w.tmux('capture-pane', '-p', '-t', `=${id}:`).stdout.includes('esc to interrupt'), 'the spinner');
  expect(w.tmux('send-keys', '-t', `=${id}:`, 'Escape').code).toBe(0); // same machine, same tmux socket
  await waitFor(() => activityOf(id) === 'idle', 'idle after Esc (the remote screen read)').catch((err: unknown) => {
    const db = spawnSync('sqlite3', [join(w.home, 'ennio.db'), `select activity_state from sessions where id='${id}'`], { encoding: 'utf8' }).stdout;
    throw new Error(`${String(err)}\nstate: ${db}\nscreen: ${w.tmux('capture-pane', '-p', '-t', `=${id}:`).stdout}\nfile: ${readFileSync(stateFile, 'utf8')}`);
  });

  send(id, 'exit');
  expect(w.run(['wait', id, '--for', 'exited', '--timeout', '60']).code).toBe(0);
  expect(w.run(['session', 'restore', id]).code).toBe(0);
  await waitFor(() => fakeClaudeStarts(log).filter((s) => s.cwd.endsWith(id)).length === 2, 'the restored agent');
  expect(fakeClaudeStarts(log).filter((s) => s.cwd.endsWith(id))[1]!.argv.slice(0, 2)).toEqual(['--resume', conversation]);
  await waitFor(() => activityOf(id) === 'idle', 'idle after resuming');
  expect(w.run(['session', 'kill', id]).code).toBe(0);
  expect(existsSync(stateFile)).toBe(false);
  return id;
}

describe.skipIf(skip)('remote activity', () => {
  it('strategy tmux: hooks on the remote host, read with the sweep probe; Esc read from the remote screen; restore resumes', async () => {
    const id = await turnsAndResume('rtmux', 'ssh:tmux');
    expect(probeReadsOf(id)).toBeGreaterThan(0); // the state file came through the SSH probe
  }, 300_000);

  it.skipIf(tmateMissing)('strategy tmate: the same (the agent in tmux, shared by a tmate server)', async () => {
    const id = await turnsAndResume('rtmate', 'ssh:tmate');
    expect(probeReadsOf(id)).toBeGreaterThan(0);
  }, 300_000);

  it('strategy remote_control: claude remote-control runs the same hooks; a typed prompt is working until its turn ends', async () => {
    const { id } = await firstTurns('rrc', 'ssh:remote_control');
    expect(JSON.parse(w.run(['session', 'info', id, '--json']).stdout).runtime_info.remote_control_url).toBe(`https://claude.ai/code/session_${id}`);
    expect(probeReadsOf(id)).toBeGreaterThan(0);
    expect(w.run(['session', 'kill', id]).code).toBe(0);
  }, 300_000);

  it('strategy node: the same through ennio-node\'s tmux, the activity read by the daemon in ListRuntimes (no SSH probe)', async () => {
    const id = await turnsAndResume('rnode', 'ssh:node');
    expect(probeReadsOf(id)).toBe(0);
    const calls = listRuntimesCalls();
    // The sweeps asked the daemon for the running session's activity in ListRuntimes, and the hook lines came that way.
    expect(calls.filter((c) => c.runtimes === 1 && c.activity_read === 1).length).toBeGreaterThan(3);
    expect(calls.filter((c) => c.activity_bytes > 0).length).toBeGreaterThan(3);
  }, 300_000);
});
