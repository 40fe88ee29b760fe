/**
 * A spawn killed -9 after its agent started, before it recorded the runtime handle:
 * `session cleanup` (once the spawner is gone) must leave nothing of it — no tmux session
 * with the agent, no workspace, no branch, no record — locally, over SSH (tmux) and
 * through ennio-node. The agent here prints nothing, so the spawn sits waiting to type its
 * prompt with the tmux session already up: the window a kill -9 hits.
 *
 * In-process only (ENNIO_NO_SERVER): through an orchestrator, killing the CLI cancels the
 * request, which rolls back normally.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessRuntime } from '../src/strategies/process-runtime.js';
import { CLI, createWorld, git, waitFor, type World } from './helpers/cli.js';
import { isRunning, waitUntil } from './helpers/node-daemon.js';
import { createRemoteWorld, type RemoteWorld } from './helpers/remote-world.js';
import { freePort, sshdSkipReason } from './helpers/sshd.js';

const SILENT_AGENT = 'sleep 600';
const CONTROL_SESSION = 'ennio-node-control';

/** Agent sessions on the world's tmux server (not the daemon's control session). */
function agentSessions(w: World): string[] {
  const res = w.tmux('list-sessions', '-F', '#{session_name}');
  return res.code === 0 ? res.stdout.split('\n').filter((n) => n !== '' && n !== CONTROL_SESSION) : [];
}

/** Start `ennio spawn project` and SIGKILL it (its whole process group) once its tmux session exists. */
async function spawnKilledAfterTmuxStarted(w: World, project: string): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'spawn', project, '--prompt', 'never typed'], { env: w.env, cwd: w.dir, detached: true, stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.on('close', () => r()));
  try {
    const [name] = await waitFor(() => {
      const names = agentSessions(w);
      return names.length > 0 ? names : undefined;
    }, 'the spawn to start its tmux session', 60_000);
    process.kill(-child.pid!, 'SIGKILL');
    await exited;
    // It died spawning: the record is there, still 'spawning' (no runtime handle recorded).
    const listed = JSON.parse(w.run(['session', 'list', '--json']).stdout) as Array<{ id: string; status: string }>;
    expect(listed).toEqual([expect.objectContaining({ id: name, status: 'spawning' })]);
    return name!;
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone, the normal case
    }
  }
}

function expectNothingLeftOf(w: World, id: string, workspaces: string): void {
  expect(agentSessions(w)).toEqual([]);
  expect(existsSync(join(workspaces, id))).toBe(false);
  expect(git(join(w.dir, 'repo'), 'branch', '--list', `ennio/${id}`)).toBe('');
  expect(JSON.parse(w.run(['session', 'list', '--json']).stdout)).toEqual([]);
}

function cleanupKilled(w: World): string[] {
  const res = w.run(['session', 'cleanup', '--json']);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  return (JSON.parse(res.stdout) as { killed: string[] }).killed;
}

describe('a local spawn killed -9 after its tmux session started', () => {
  let w: World;
  beforeAll(() => {
    w = createWorld();
    w.makeRepo();
    w.writeConfig([
      'projects:',
      '  - name: app',
      '    path: ./repo',
      '    agent: custom',
      `    agent_config: { command: ${JSON.stringify(SILENT_AGENT)} }`,
      '',
    ].join('\n'));
  });
  afterAll(() => w.cleanup());

  it('is removed by cleanup with its agent: no tmux session, workspace, branch or record', async () => {
    const id = await spawnKilledAfterTmuxStarted(w, 'app');
    const agentPid = Number(w.tmux('display-message', '-p', '-t', `=${id}:`, '#{pane_pid}').stdout.trim());
    expect(isRunning(agentPid)).toBe(true);
    expect(existsSync(join(w.home, 'workspaces', 'app', id))).toBe(true);
    expect(cleanupKilled(w)).toEqual([id]);
    expectNothingLeftOf(w, id, join(w.home, 'workspaces', 'app'));
    await waitFor(() => !isRunning(agentPid), 'the agent process to end');
  });
});

describe('the process runtime without a recorded handle', () => {
  it('finds the agent it started by session id, and destroy ends it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ennio-orphan-proc-'));
    try {
      const runtime = new ProcessRuntime(join(dir, 'logs'));
      const created = await runtime.create({ sessionId: 's-1', name: 's-1', cwd: dir, env: {}, command: ['sleep', '600'] });
      expect(await runtime.handleFor('s-2')).toBeUndefined();
      const found = await runtime.handleFor('s-1');
      expect(found?.data).toEqual(created.data);
      await runtime.destroy(found!);
      // Asked of the runtime itself: this test process reaps the child only a moment later.
      expect(await waitUntil(() => runtime.liveness(created), (state) => state === 'exited', 'the process to end')).toBe('exited');
      expect(isRunning(Number(created.data['pid']))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const sshSkip = sshdSkipReason();
if (sshSkip) console.log(`skipping remote orphan tests: ${sshSkip}`);

describe.skipIf(sshSkip !== undefined)('a remote spawn killed -9 after its tmux session started', () => {
  let w: RemoteWorld;
  let nodePort = 0;
  const silent = (text: string): string => text.replace(/^( {4}agent_config:\n {6}command: ).*$/m, `$1${JSON.stringify(SILENT_AGENT)}`);

  beforeAll(async () => {
    w = await createRemoteWorld();
    nodePort = await freePort();
    w.writeConfig(['projects:', silent(w.project('otmux', 'tmux')), silent(w.project('onode', 'node', `      node_config: { port: ${nodePort}, idle_timeout: 600 }`)), ''].join('\n'));
    expect(readFileSync(join(w.dir, 'ennio.yaml'), 'utf8').match(/sleep 600/g)).toHaveLength(2);
  });
  afterAll(async () => {
    w.run(['node', 'disconnect', 'onode', '--shutdown']);
    // The "remote" is this machine: the daemon of this run must not outlive it.
    const pidFile = join(w.remoteDir, 'node', `daemon-${nodePort}.pid`);
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
    if (pid > 0 && isRunning(pid)) process.kill(pid, 'SIGKILL');
    await w.stop();
  });

  it.each(['otmux', 'onode'])('%s: cleanup removes its agent, workspace, branch and record', async (project) => {
    const id = await spawnKilledAfterTmuxStarted(w, project);
    const workspaces = join(w.remoteDir, 'workspaces', project);
    expect(existsSync(join(workspaces, id))).toBe(true);
    expect(cleanupKilled(w)).toEqual([id]);
    expectNothingLeftOf(w, id, workspaces);
    expect(readdirSync(workspaces)).toEqual([]);
  });
});
