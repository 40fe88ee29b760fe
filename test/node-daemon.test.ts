/**
 * ennio-node end to end, without SSH: the bundled daemon started as a real process on a
 * free port with its own tmux socket, called through NodeClient over plain TCP.
 */
import { existsSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Code, ConnectError } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnnioError } from '../src/core/errors.js';
import { NodeClient } from '../src/node/client/node-client.js';
import type { RuntimeHandle } from '../src/strategies/types.js';
import {
  Cleanup, buildDaemonBundle, git, gitRepo, startDaemon, tcpDial, tempDir, tmux, uniqueSocket, waitUntil,
  type DaemonProcess, failure } from './helpers/node-daemon.js';

const cleanup = new Cleanup();
let dir: string;
let root: string;
let socket: string;
let daemon: DaemonProcess;
let client: NodeClient;

function grpcCode(err: EnnioError): Code | undefined {
  return err.cause instanceof ConnectError ? err.cause.code : undefined;
}

async function start(): Promise<void> {
  daemon = await startDaemon({ workspaceRoot: root, tmuxSocket: socket, logFile: join(dir, 'daemon.log') });
  cleanup.daemon(daemon);
  client = new NodeClient({ dial: tcpDial(daemon.port), token: () => undefined, label: 'test' });
  cleanup.add(() => client.close());
}

beforeAll(async () => {
  await buildDaemonBundle();
  dir = cleanup.dir(tempDir('daemon'));
  root = join(dir, 'workspaces');
  socket = cleanup.socket(uniqueSocket());
  await start();
});
afterAll(() => cleanup.run());

describe('lifecycle', () => {
  it('answers Heartbeat with its version, pid and workspace root', async () => {
    const hb = await client.heartbeat();
    expect(hb.healthy).toBe(true);
    expect(hb.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(hb.pid).toBe(daemon.pid);
    expect(hb.workspaceRoot).toBe(realpathSync(root));
    expect(hb.buildId).toMatch(/^[0-9a-f]{64}$/);
    expect(hb.rssBytes).toBeGreaterThan(0);
  });

  it('logs JSON lines and warns that it relies on the SSH tunnel without a token', () => {
    const lines = daemon.log().trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(lines.some((l) => l.level === 'warn' && /SSH tunnel/.test(l.msg))).toBe(true);
    expect(lines.some((l) => l.msg === 'listening')).toBe(true);
  });
});

describe('workspaces', () => {
  let repo: string;
  beforeAll(() => {
    repo = gitRepo(join(dir, 'repo'));
  });

  it('creates a worktree on ennio/<session_id> under <root>/<project>/<session> and destroys it', async () => {
    const ws = await client.createWorkspace({ projectId: 'proj', sessionId: 's1', type: 'worktree', path: repo, defaultBranch: 'main' });
    expect(ws.path).toBe(join(realpathSync(root), 'proj', 's1'));
    expect(ws.createdBranch).toBe(true);
    expect(git(ws.path, 'branch', '--show-current')).toBe('ennio/s1');
    await client.destroyWorkspace(ws.path);
    expect(existsSync(ws.path)).toBe(false);
    expect(git(repo, 'worktree', 'list')).not.toContain('/proj/s1');
    // The branch stays (work is never thrown away with the directory).
    expect(git(repo, 'branch', '--list', 'ennio/s1')).toContain('ennio/s1');
    // Destroying again is fine: it is already gone.
    await client.destroyWorkspace(ws.path);
  });

  it('uses the requested branch, and reports an existing one as BRANCH_EXISTS', async () => {
    const ws = await client.createWorkspace({ projectId: 'proj', sessionId: 's2', type: 'worktree', path: repo, defaultBranch: 'main', branch: 'feat/x' });
    expect(git(ws.path, 'branch', '--show-current')).toBe('feat/x');
    const err = await failure(client.createWorkspace({ projectId: 'proj', sessionId: 's3', type: 'worktree', path: repo, defaultBranch: 'main', branch: 'feat/x' }));
    expect(err.code).toBe('BRANCH_EXISTS');
    expect(grpcCode(err)).toBe(Code.AlreadyExists);
  });

  it('clones repo_url into path when the repository is missing, and makes clones', async () => {
    // Inside the workspace root: the daemon clones nowhere else (see node-confinement.test.ts).
    const missing = join(realpathSync(root), 'repos', 'not-yet');
    const ws = await client.createWorkspace({ projectId: 'proj', sessionId: 's4', type: 'worktree', path: missing, repoUrl: repo, defaultBranch: 'main' });
    expect(existsSync(join(missing, '.git'))).toBe(true);
    expect(git(ws.path, 'branch', '--show-current')).toBe('ennio/s4');
    const clone = await client.createWorkspace({ projectId: 'other', sessionId: 's5', type: 'clone', path: '', repoUrl: repo, defaultBranch: 'main' });
    expect(existsSync(join(clone.path, '.git'))).toBe(true);
    expect(git(clone.path, 'branch', '--show-current')).toBe('ennio/s5');
    await client.destroyWorkspace(clone.path);
    expect(existsSync(clone.path)).toBe(false);
  });

  it('rejects an unknown workspace_type and unsafe ids with INVALID_ARGUMENT', async () => {
    const bad = await failure(client.createWorkspace({ projectId: 'proj', sessionId: 's6', type: 'bogus' as 'clone', path: repo, defaultBranch: 'main' }));
    expect(grpcCode(bad)).toBe(Code.InvalidArgument);
    expect(bad.message).toContain('unknown workspace_type "bogus"');
    for (const [projectId, sessionId] of [['../etc', 's7'], ['proj', 'a/b'], ['', 's8'], ['proj', '.hidden']] as const) {
      const err = await failure(client.createWorkspace({ projectId, sessionId, type: 'worktree', path: repo, defaultBranch: 'main' }));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(grpcCode(err)).toBe(Code.InvalidArgument);
    }
    const branch = await failure(client.createWorkspace({ projectId: 'proj', sessionId: 's9', type: 'worktree', path: repo, defaultBranch: 'main', branch: 'bad..name' }));
    expect(branch.code).toBe('INVALID_ARGUMENT');
    const relative = await failure(client.createWorkspace({ projectId: 'proj', sessionId: 's10', type: 'worktree', path: 'relative/repo', defaultBranch: 'main' }));
    expect(relative.message).toContain('must be absolute');
    expect(existsSync(join(root, '..', 'etc'))).toBe(false);
  });

  it('maps failures of the host, not of the daemon, to FAILED_PRECONDITION / NOT_FOUND (never INTERNAL)', async () => {
    // A clone from a URL that does not exist: the command's stderr comes along.
    const badUrl = await failure(client.createWorkspace({ projectId: 'codes', sessionId: 'c1', type: 'clone', path: '', repoUrl: join(dir, 'no-such-repo.git'), defaultBranch: 'main' }));
    expect(grpcCode(badUrl)).toBe(Code.FailedPrecondition);
    expect(badUrl.code).toBe('COMMAND_FAILED');
    expect(badUrl.message).toContain('no-such-repo.git');
    // `git worktree add` refusing: main is checked out in the repository itself.
    const busy = await failure(client.createWorkspace({ projectId: 'codes', sessionId: 'c2', type: 'worktree', path: repo, defaultBranch: 'main', branch: 'main', reuseBranch: true }));
    expect(grpcCode(busy)).toBe(Code.FailedPrecondition);
    expect(busy.code).toBe('COMMAND_FAILED');
    expect(busy.message).toMatch(/already (checked out|used by worktree)/);
    // A repository that is missing, with nothing to clone it from.
    const missing = await failure(client.createWorkspace({ projectId: 'codes', sessionId: 'c3', type: 'worktree', path: join(root, 'gone'), defaultBranch: 'main' }));
    expect(grpcCode(missing)).toBe(Code.NotFound);
    expect(missing.code).toBe('INVALID_ARGUMENT'); // the same Ennio code a local run raises
    expect(missing.message).toContain('no repo_url');
    // A directory that is not a repository.
    mkdirSync(join(root, 'plain-dir'), { recursive: true });
    const plain = await failure(client.createWorkspace({ projectId: 'codes', sessionId: 'c4', type: 'worktree', path: join(root, 'plain-dir'), defaultBranch: 'main' }));
    expect(grpcCode(plain)).toBe(Code.FailedPrecondition);
    for (const s of ['c1', 'c2', 'c3', 'c4']) expect(existsSync(join(root, 'codes', s))).toBe(false);
  });

  it('refuses to delete outside the workspace root: .., absolute paths, symlink escapes', async () => {
    const victim = join(dir, 'victim');
    mkdirSync(victim);
    writeFileSync(join(victim, 'keep'), 'x');
    const realRoot = realpathSync(root);
    mkdirSync(join(realRoot, 'proj'), { recursive: true });
    symlinkSync(victim, join(realRoot, 'proj', 'link'));
    symlinkSync(dir, join(realRoot, 'escape'));
    const attempts = [
      join(realRoot, '..', 'victim'), // written with .., not normalized by the client
      `${realRoot}/proj/../../victim`,
      victim,
      '/etc',
      realRoot,
      join(realRoot, 'proj', 'link'),
      join(realRoot, 'escape', 'victim'),
    ];
    for (const path of attempts) {
      const err = await failure(client.destroyWorkspace(path.includes('..') ? path : path));
      expect(grpcCode(err), path).toBe(Code.PermissionDenied);
      expect(err.message).toContain('refusing');
    }
    // Written with '..' literally (join() above normalizes, so build the string by hand).
    const literal = await failure(client.destroyWorkspace(`${realRoot}/proj/../../victim`));
    expect(grpcCode(literal)).toBe(Code.PermissionDenied);
    const relative = await failure(client.destroyWorkspace('proj/s1'));
    expect(grpcCode(relative)).toBe(Code.InvalidArgument);
    expect(existsSync(join(victim, 'keep'))).toBe(true);
  });
});

describe('runtimes', () => {
  let handle: RuntimeHandle;
  const output = (h: RuntimeHandle, lines = 50): Promise<string> => client.getOutput(h, lines);

  it('starts launch_command through sh -c with env and cwd, in tmux', async () => {
    const cwd = realpathSync(root);
    handle = await client.createRuntime({
      sessionId: 'r1',
      name: 'ennio-r1',
      launchCommand: 'printf "env=%s cwd=%s\\n" "$FOO" "$PWD"; exec cat',
      env: { FOO: 'bar baz' },
      cwd,
    });
    expect(handle).toEqual({ id: 'ennio-r1', runtimeName: 'tmux', data: { session_id: 'r1', cwd, tmux_socket: socket } });
    expect(tmux(socket, 'has-session', '-t', '=ennio-r1').code).toBe(0);
    const out = await waitUntil(() => output(handle), (o) => o.includes('env='), 'launch output');
    expect(out).toContain(`env=bar baz cwd=${cwd}`);
    expect(await client.liveness(handle)).toBe('running');
  });

  it('sends messages (short and multi-line) and reads the last lines', async () => {
    await client.sendMessage(handle, 'hello $(whoami) ;');
    await waitUntil(() => output(handle), (o) => o.split('\n').filter((l) => l === 'hello $(whoami) ;').length >= 2, 'echoed message');
    await client.sendMessage(handle, 'line one\nline two');
    const out = await waitUntil(() => output(handle), (o) => o.includes('line two'), 'pasted message');
    expect(out).toContain('line one');
    const last = await output(handle, 1);
    expect(last.split('\n')).toHaveLength(1);
  });

  it('maps an unknown session to NOT_FOUND and a duplicate name to ALREADY_EXISTS', async () => {
    const ghost: RuntimeHandle = { id: 'no-such-session', runtimeName: 'tmux', data: { tmux_socket: socket } };
    const out = await failure(client.getOutput(ghost, 10));
    expect(grpcCode(out)).toBe(Code.NotFound);
    expect(out.code).toBe('UNKNOWN_SESSION');
    expect(grpcCode(await failure(client.sendMessage(ghost, 'x')))).toBe(Code.NotFound);
    expect(await client.liveness(ghost)).toBe('missing');
    const dup = await failure(client.createRuntime({ sessionId: 'r1', name: 'ennio-r1', launchCommand: 'true', env: {}, cwd: root }));
    expect(grpcCode(dup)).toBe(Code.AlreadyExists);
    const badName = await failure(client.createRuntime({ sessionId: 'r1', name: 'a;b', launchCommand: 'true', env: {}, cwd: root }));
    expect(grpcCode(badName)).toBe(Code.InvalidArgument);
    const badCwd = await failure(client.createRuntime({ sessionId: 'r9', name: 'r9', launchCommand: 'true', env: {}, cwd: join(root, 'nope') }));
    expect(grpcCode(badCwd)).toBe(Code.FailedPrecondition);
  });

  it('answers ALREADY_EXISTS to every loser of concurrent CreateRuntime calls for one name', async () => {
    const dup: RuntimeHandle = { id: 'ennio-dup', runtimeName: 'tmux', data: { tmux_socket: socket } };
    try {
      const attempts = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => client.createRuntime({ sessionId: `dup${i}`, name: 'ennio-dup', launchCommand: 'exec cat', env: {}, cwd: root })),
      );
      const won = attempts.filter((a) => a.status === 'fulfilled');
      const lost = attempts.flatMap((a) => (a.status === 'rejected' ? [a.reason as EnnioError] : []));
      expect(won).toHaveLength(1);
      expect(lost.map((e) => grpcCode(e))).toEqual(Array.from({ length: 5 }, () => Code.AlreadyExists));
      expect(lost.every((e) => e.code === 'SESSION_STATE')).toBe(true);
      expect(tmux(socket, 'has-session', '-t', '=ennio-dup').code).toBe(0);
    } finally {
      // Also when the assertions failed: later tests count this server's sessions.
      await client.destroyRuntime(dup);
    }
  });

  it('counts only agent sessions in Heartbeat and keeps its own control session out of reach', async () => {
    // The fast path's control client attaches to a session of its own (see tmux-control.ts).
    expect(tmux(socket, 'has-session', '-t', '=ennio-node-control').code).toBe(0);
    const sessions = tmux(socket, 'list-sessions', '-F', '#{session_name}').stdout.trim().split('\n');
    expect((await client.heartbeat()).runtimes).toBe(sessions.filter((n) => n !== 'ennio-node-control').length);
    const reserved: RuntimeHandle = { id: 'ennio-node-control', runtimeName: 'tmux', data: {} };
    expect(grpcCode(await failure(client.destroyRuntime(reserved)))).toBe(Code.InvalidArgument);
    expect(grpcCode(await failure(client.createRuntime({ sessionId: 'x', name: 'ennio-node-control', launchCommand: 'true', env: {}, cwd: root })))).toBe(Code.InvalidArgument);
  });

  it('reports an exited agent as not alive (state exited) and keeps its output', async () => {
    // The agent exits only after its output was seen: a process that prints and exits at
    // once can be gone before tmux read its last bytes from the pty (seen under load).
    const h = await client.createRuntime({ sessionId: 'r2', name: 'ennio-r2', launchCommand: 'echo bye; read line; exit 3', env: {}, cwd: root });
    await waitUntil(() => output(h), (o) => o.includes('bye'), 'agent output');
    await client.sendMessage(h, 'go');
    await waitUntil(() => client.liveness(h), (s) => s === 'exited', 'agent exit');
    const raw = await client.raw.isAlive({ handle: h });
    expect(raw.alive).toBe(false);
    expect(await output(h)).toContain('bye');
    await client.destroyRuntime(h);
    expect(await client.liveness(h)).toBe('missing');
  });

  it('answers IsAlive from tmux after the daemon was killed and restarted', async () => {
    await daemon.kill('SIGKILL');
    expect(tmux(socket, 'has-session', '-t', '=ennio-r1').code).toBe(0); // tmux outlives the daemon
    client.close();
    await start();
    expect(await client.liveness(handle)).toBe('running');
    expect(await output(handle)).toContain('line two');
    await client.destroyRuntime(handle);
    expect(tmux(socket, 'has-session', '-t', '=ennio-r1').code).not.toBe(0);
    await client.destroyRuntime(handle); // already gone: not an error
  });
});
