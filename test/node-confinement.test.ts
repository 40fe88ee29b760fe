/**
 * ennio-node's confinement, as seen by a gRPC client that is not ours, against the real
 * daemon: DestroyWorkspace removes exactly `<root>/<project>/<session>` and nothing else;
 * CreateWorkspace `path` and CreateRuntime `cwd` stay inside the workspace root or in an
 * existing repository; symlinks do not get around either. And the daemon's tmux control
 * session leaves with the daemon (SIGTERM, idle timeout), a leftover is replaced.
 */
import { existsSync, mkdirSync, readdirSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcCall, grpcStatus, grpcStub, type EnnioNodeStub } from './helpers/grpc-client.js';
import {
  Cleanup, buildDaemonBundle, git, gitRepo, isRunning, startDaemon, stopDaemonProcess, tempDir, tmux, uniqueSocket, waitUntil,
  type DaemonProcess } from './helpers/node-daemon.js';

const CONTROL = 'ennio-node-control';
const cleanup = new Cleanup();
let dir: string;

beforeAll(async () => {
  await buildDaemonBundle();
  dir = realpathSync(cleanup.dir(tempDir('confine')));
});
afterAll(() => cleanup.run());

async function daemon(name: string, socket: string, idleTimeout?: number): Promise<{ d: DaemonProcess; c: EnnioNodeStub; root: string }> {
  const root = join(dir, `ws-${name}`);
  const d = cleanup.daemon(await startDaemon({ workspaceRoot: root, tmuxSocket: socket, logFile: join(dir, `${name}.log`), ...(idleTimeout !== undefined ? { idleTimeout } : {}) }));
  return { d, c: grpcStub(cleanup, d.port), root };
}

async function ok(c: EnnioNodeStub, method: string, req: object): Promise<Record<string, unknown>> {
  const { err, res } = await grpcCall(c, method, req);
  if (err) throw new Error(`${method} failed: ${err.code} ${err.details}`);
  return res;
}

async function deniedBy(c: EnnioNodeStub, method: string, req: object): Promise<string> {
  const { err } = await grpcCall(c, method, req);
  expect(err?.code, `${method} ${JSON.stringify(req)}`).toBe(grpcStatus.PERMISSION_DENIED);
  return err?.details ?? '';
}

describe('confinement', () => {
  let c: EnnioNodeStub;
  let root: string;
  let socket: string;
  let repo: string;
  const workspace = (project: string, session: string): Promise<Record<string, unknown>> =>
    ok(c, 'CreateWorkspace', { project_id: project, session_id: session, workspace_type: 'worktree', path: repo, default_branch: 'main' });

  beforeAll(async () => {
    socket = cleanup.socket(uniqueSocket('confine'));
    ({ c, root } = await daemon('main', socket));
    repo = gitRepo(join(dir, 'repo'));
  });

  it('DestroyWorkspace removes exactly <root>/<project>/<session>, never a project dir or anything through a symlink', async () => {
    const a = String((await workspace('proj', 'a'))['workspace_path']);
    const b = String((await workspace('proj', 'b'))['workspace_path']);
    expect(a).toBe(join(root, 'proj', 'a'));
    mkdirSync(join(a, 'sub'));
    symlinkSync(join(root, 'proj'), join(root, 'alias')); // another name for the project dir
    symlinkSync(b, join(root, 'proj', 'c')); // a "workspace" that is really b
    const refused = [join(root, 'proj'), join(root, 'proj') + '/', root, join(a, 'sub'), join(root, 'alias', 'a'), join(root, 'proj', 'c'), join(root, 'alias')];
    for (const path of refused) {
      const why = await deniedBy(c, 'DestroyWorkspace', { workspace_path: path });
      expect(why).toContain('refusing');
    }
    expect(await deniedBy(c, 'DestroyWorkspace', { workspace_path: join(root, 'proj') })).toContain('<workspace root>/<project_id>/<session_id>');
    // Everything is still there: both workspaces, the subdirectory, the links.
    expect(readdirSync(join(root, 'proj')).sort()).toEqual(['a', 'b', 'c']);
    expect(existsSync(join(a, 'sub'))).toBe(true);
    expect(git(b, 'branch', '--show-current')).toBe('ennio/b');

    await ok(c, 'DestroyWorkspace', { workspace_path: a });
    expect(existsSync(a)).toBe(false);
    expect(existsSync(b)).toBe(true);
  });

  it('CreateWorkspace works from an existing repository or inside the root, and clones or creates nothing elsewhere', async () => {
    const plain = join(dir, 'plain');
    mkdirSync(plain);
    mkdirSync(join(repo, 'sub'), { recursive: true });
    const missing = join(dir, 'would-be-cloned-here');
    symlinkSync(plain, join(root, 'link-to-plain'));
    const attempts: Array<[string, string]> = [
      [plain, ''], // a directory that is no repository
      ['/', ''],
      [join(repo, 'sub'), ''], // inside a repository, not its top
      [missing, repo], // would clone repo_url into a place outside the root
      [join(root, 'link-to-plain'), ''], // inside the root by name, really outside
    ];
    for (const [i, [path, url]] of attempts.entries()) {
      const why = await deniedBy(c, 'CreateWorkspace', { project_id: 'p2', session_id: `s${i}`, workspace_type: 'worktree', path, repo_url: url, default_branch: 'main' });
      expect(why).toContain('inside the workspace root or an existing git repository');
    }
    expect(await deniedBy(c, 'CreateWorkspace', { project_id: 'p2', session_id: 'c1', workspace_type: 'clone', path: plain, default_branch: 'main' })).toContain('refusing');
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(join(root, 'p2'))).toBe(false);
    expect(git(repo, 'branch', '--list', 'ennio/s*')).toBe('');
    // What the orchestrator does: a worktree of the project's repository (outside the root).
    const ws = await workspace('p2', 'fine');
    expect(ws['workspace_path']).toBe(join(root, 'p2', 'fine'));
  });

  it('CreateRuntime runs only inside the workspace root or an existing repository', async () => {
    symlinkSync(dir, join(root, 'link-out'));
    const outside = ['/', dir, '/etc', join(root, 'link-out')];
    for (const [i, cwd] of outside.entries()) {
      const why = await deniedBy(c, 'CreateRuntime', { session_id: `o${i}`, session_name: `out-${i}`, launch_command: 'exec cat', cwd });
      expect(why).toContain('cwd must be inside the workspace root');
      expect(tmux(socket, 'has-session', '-t', `=out-${i}`).code).not.toBe(0);
    }
    const ws = String((await workspace('p3', 'r1'))['workspace_path']);
    for (const [name, cwd] of [['in-ws', ws], ['in-repo', repo]] as const) {
      const res = await ok(c, 'CreateRuntime', { session_id: name, session_name: name, launch_command: 'pwd; exec cat', cwd });
      const handle = res['handle'] as object;
      const out = await waitUntil(async () => String((await ok(c, 'GetOutput', { handle, lines: 10 }))['output']), (o) => o.includes(cwd), `${name} output`);
      expect(out.split('\n')[0]).toBe(cwd);
      await ok(c, 'DestroyRuntime', { handle });
    }
  });
});

describe('the tmux control session', () => {
  const controlPanePid = (socket: string): number => Number(tmux(socket, 'display-message', '-p', '-t', `=${CONTROL}:`, '#{pane_pid}').stdout.trim());
  const controlClients = (socket: string): string[] => tmux(socket, 'list-clients', '-t', `=${CONTROL}:`, '-F', '#{client_pid}').stdout.split('\n').filter(Boolean);

  /** An agent session, and IsAlive until the daemon's control client is attached (the fast path starts after a spawned tmux command). */
  async function agentWithControl(c: EnnioNodeStub, socket: string, root: string, name: string, clients = 1): Promise<void> {
    const { handle } = (await ok(c, 'CreateRuntime', { session_id: name, session_name: name, launch_command: 'exec cat', cwd: root })) as { handle: object };
    await waitUntil(async () => {
      await ok(c, 'IsAlive', { handle });
      return controlClients(socket).length;
    }, (n) => n === clients, 'the control client to attach');
  }

  it('is removed when the daemon stops on SIGTERM; the agents keep running', async () => {
    const socket = cleanup.socket(uniqueSocket('ctl-term'));
    const { d, c, root } = await daemon('term', socket);
    await agentWithControl(c, socket, root, 'agent-term');
    const pane = controlPanePid(socket);
    await stopDaemonProcess(d);
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(tmux(socket, 'has-session', '-t', `=${CONTROL}`).code).not.toBe(0);
    await waitUntil(() => isRunning(pane), (alive) => !alive, 'the control pane to end');
    expect(tmux(socket, 'has-session', '-t', '=agent-term').code).toBe(0);
  });

  it('is removed when the daemon idles out', async () => {
    const socket = cleanup.socket(uniqueSocket('ctl-idle'));
    const { d, c, root } = await daemon('idle', socket, 3);
    await agentWithControl(c, socket, root, 'agent-idle');
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(d.log()).toContain('"reason":"idle"');
    expect(tmux(socket, 'has-session', '-t', `=${CONTROL}`).code).not.toBe(0);
    expect(tmux(socket, 'has-session', '-t', '=agent-idle').code).toBe(0);
  });

  it('left behind by a daemon killed -9 is replaced by the next daemon', async () => {
    const socket = cleanup.socket(uniqueSocket('ctl-kill'));
    const first = await daemon('killed', socket);
    await agentWithControl(first.c, socket, first.root, 'agent-kill');
    const stalePane = controlPanePid(socket);
    await first.d.kill('SIGKILL');
    // Its control client leaves with it; the session stays behind, unused.
    await waitUntil(() => controlClients(socket).length, (n) => n === 0, 'the dead daemon\'s control client to go');
    expect(tmux(socket, 'has-session', '-t', `=${CONTROL}`).code).toBe(0);

    const next = await daemon('next', socket);
    await agentWithControl(next.c, socket, next.root, 'agent-next');
    expect(controlPanePid(socket)).not.toBe(stalePane);
    await waitUntil(() => isRunning(stalePane), (alive) => !alive, 'the stale control pane to end');
    await stopDaemonProcess(next.d);
    expect(tmux(socket, 'has-session', '-t', `=${CONTROL}`).code).not.toBe(0);
    expect(tmux(socket, 'list-sessions', '-F', '#{session_name}').stdout.split('\n').filter(Boolean).sort()).toEqual(['agent-kill', 'agent-next']);
  });

  it('stays while another daemon on the same tmux server still uses it', async () => {
    const socket = cleanup.socket(uniqueSocket('ctl-two'));
    const a = await daemon('two-a', socket);
    const b = await daemon('two-b', socket);
    await agentWithControl(a.c, socket, a.root, 'agent-a', 1);
    await agentWithControl(b.c, socket, b.root, 'agent-b', 2);
    await stopDaemonProcess(a.d);
    expect(controlClients(socket)).toHaveLength(1);
    // b's fast path still answers.
    const { handle } = (await ok(b.c, 'CreateRuntime', { session_id: 'b2', session_name: 'agent-b2', launch_command: 'echo b2; exec cat', cwd: b.root })) as { handle: object };
    await waitUntil(async () => String((await ok(b.c, 'GetOutput', { handle, lines: 5 }))['output']), (o) => o.includes('b2'), 'b2 output');
    await stopDaemonProcess(b.d);
    expect(tmux(socket, 'has-session', '-t', `=${CONTROL}`).code).not.toBe(0);
  });
});

