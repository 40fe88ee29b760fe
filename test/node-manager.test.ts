/**
 * The node strategy (Backend) and `ennio node …` (NodeManager + the commander group)
 * against a real sshd, with the bundled daemon deployed through it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { InProcessNodeApi } from '../src/api/in-process.js';
import type { NodeApi } from '../src/api/contract.js';
import { registerNodeCommands } from '../src/cli/node.js';
import { closeAllRemote } from '../src/strategies/remote.js';
import { config as configSchema, type EnnioConfig } from '../src/config/schema.js';
import { isEnnioError } from '../src/core/errors.js';
import { SshHostRegistry } from '../src/host/ssh/registry.js';
import { NodeManager } from '../src/services/node-manager.js';
import { closeAllNodeClients, createNodeBackend } from '../src/strategies/node.js';
import { NodeClient } from '../src/node/client/node-client.js';
import { TokenStore } from '../src/node/client/token-store.js';
import { Cleanup, buildDaemonBundle, git, gitRepo, isRunning, tcpDial, tempDir, tmux, uniqueSocket, waitUntil } from './helpers/node-daemon.js';
import { freePort, keygen, sshdSkipReason, startSshd, type TestSshd } from './helpers/sshd.js';
import { targetFor } from './helpers/ssh-env.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping node strategy tests: ${skip}`);

describe.skipIf(skip !== undefined)('node strategy and ennio node', () => {
  const cleanup = new Cleanup();
  const registry = new SshHostRegistry();
  let sshd: TestSshd;
  let dir: string;
  /** What `ennio node …` runs with --no-server: the API in this process, remote connections closed after. */
  const inProcessNodeApi = (cfg: EnnioConfig) => async (body: (api: NodeApi) => Promise<void>): Promise<void> => {
    try {
      await body(new InProcessNodeApi(cfg, join(dir, 'home')));
    } finally {
      await closeAllRemote();
    }
  };
  let config: EnnioConfig;
  let port: number;
  let socket: string;

  beforeAll(async () => {
    await buildDaemonBundle();
    dir = cleanup.dir(tempDir('nmgr'));
    sshd = await startSshd();
    cleanup.add(() => sshd.stop());
    cleanup.add(() => registry.closeAll());
    cleanup.add(() => closeAllNodeClients());
    socket = cleanup.socket(uniqueSocket('nmgr'));
    vi.stubEnv('ENNIO_TMUX_SOCKET', socket);
    cleanup.add(() => {
      vi.unstubAllEnvs();
    });
    port = await freePort();
    const repo = gitRepo(join(dir, 'repo'));
    config = configSchema.parse({
      projects: [
        {
          name: 'remote-node',
          path: repo,
          ssh_config: {
            host: '127.0.0.1', port: sshd.port, username: 'root', use_ssh_config: false,
            auth: { type: 'key', path: sshd.clientKey }, known_hosts_path: join(dir, 'known_hosts'),
            strategy: 'node', remote_dir: join(dir, 'remote'),
            node_config: { port, idle_timeout: 600, workspace_root: join(dir, 'ws') },
          },
        },
        { name: 'plain-remote', path: repo, ssh_config: { host: '127.0.0.1', strategy: 'tmux' } },
      ],
    });
  });
  afterAll(async () => {
    // Stop the daemon this file started (by its pid file), whatever the tests did.
    const { readFileSync } = await import('node:fs');
    try {
      const pid = Number(readFileSync(join(dir, 'remote', 'node', `daemon-${port}.pid`), 'utf8'));
      if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    } catch {
      // no daemon was ever started
    }
    await cleanup.run();
  });

  const hostFor = (): Promise<import('../src/host/ssh/ssh-host.js').SshHost> => {
    const p = config.projects[0]!;
    return Promise.resolve(registry.get(targetFor(sshd, p.ssh_config!.known_hosts_path!), { warn: () => undefined }));
  };
  const manager = (): NodeManager => new NodeManager(config, join(dir, 'home'), hostFor);

  it('lists node projects only, and says when no daemon runs (status does not deploy)', async () => {
    expect(manager().list()).toEqual([
      expect.objectContaining({ project: 'remote-node', port, idleTimeoutSecs: 600, workspaceRoot: join(dir, 'ws'), binary: 'upload', token: 'generated' }),
    ]);
    const [status] = await manager().status('remote-node');
    expect(status).toMatchObject({ project: 'remote-node', reachable: false, kind: 'not-running', state: 'not running' });
    expect(existsSync(join(dir, 'remote', 'node'))).toBe(false);
    const err = await manager().status('nope').catch((e: unknown) => e);
    expect(isEnnioError(err, 'UNKNOWN_PROJECT')).toBe(true);
    const notNode = await manager().connect('plain-remote').catch((e: unknown) => e);
    expect(isEnnioError(err) && isEnnioError(notNode, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('runs a session through the node Backend: workspace, agent, messages, attach argv', async () => {
    const p = config.projects[0]!;
    const backend = await createNodeBackend(p, p.ssh_config!, await hostFor(), join(dir, 'home'));
    expect(backend.kind).toBe('ssh:node');
    const root = await backend.workspaces.workspaceRoot('remote-node');
    expect(root).toBe(join(dir, 'ws', 'remote-node'));
    const ws = await backend.workspaces.create({ type: 'worktree', repoPath: p.path, workspacePath: join(root, 'rn-1'), branch: 'ennio/rn-1', defaultBranch: 'main' });
    expect(ws).toEqual({ path: join(root, 'rn-1'), createdBranch: true });
    const h = await backend.runtime.create({ sessionId: 'rn-1', name: 'rn-1', cwd: ws.path, env: { GREETING: "it's $HOME" }, command: ['sh', '-c', 'echo "$GREETING"; exec cat'] });
    expect(h.data['tmux_socket']).toBe(socket);
    await waitUntil(() => backend.runtime.output(h, 10), (o) => o.includes("it's $HOME"), 'agent output');
    await backend.runtime.send(h, 'typed via node');
    await waitUntil(() => backend.runtime.output(h, 10), (o) => o.includes('typed via node'), 'message');
    expect(await backend.runtime.liveness(h)).toBe('running');
    const attach = await backend.runtime.attachArgv(h);
    expect(attach.slice(0, 2)).toEqual(['ssh', '-t']);
    expect(attach.slice(-8)).toEqual(['127.0.0.1', 'tmux', '-u', '-L', socket, 'attach-session', '-t', '=rn-1:']);
    await backend.runtime.destroy(h);
    await expect(backend.runtime.send(h, 'x')).rejects.toMatchObject({ code: 'SESSION_STATE' });
    await backend.workspaces.remove({ type: 'worktree', repoPath: p.path, workspacePath: ws.path });
    await backend.workspaces.deleteBranch(p.path, 'ennio/rn-1');
    expect(git(p.path, 'branch', '--list', 'ennio/rn-1')).toBe('');
    expect(tmux(socket, 'has-session', '-t', '=rn-1').code).not.toBe(0);
  });

  it('ennio node status / connect --local-port / disconnect --shutdown through the commander group', async () => {
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    cleanup.add(() => write.mockRestore());
    const program = new Command('ennio').exitOverride();
    registerNodeCommands(program, { withNodeApi: inProcessNodeApi(config), loadConfig: () => config, json: () => true, ennioHome: () => join(dir, 'home') });
    const cli = async (...args: string[]): Promise<unknown> => {
      out.length = 0;
      await program.parseAsync(['node', ...args], { from: 'user' });
      return JSON.parse(out.join('')) as unknown;
    };
    // The commander group builds its own NodeManager (default SSH registry), as the CLI does.
    const status = (await cli('status', 'remote-node')) as Array<{ reachable: boolean; current: boolean; heartbeat: { pid: number } }>;
    expect(status[0]).toMatchObject({ reachable: true, current: true });
    const pid = status[0]!.heartbeat.pid;
    expect(await cli('list')).toHaveLength(1);
    expect(await cli('connect', 'remote-node')).toMatchObject({ deployed: false, localPort: null, heartbeat: { pid } });

    // connect --local-port: any gRPC client on this machine reaches the daemon.
    const fwd = await manager().connect('remote-node', { localPort: 0 });
    cleanup.add(() => fwd.forward?.close());
    const token = new TokenStore(join(dir, 'home')).get((await hostFor()).label);
    const local = new NodeClient({ dial: tcpDial(fwd.forward!.port), token: () => token, label: 'local-port' });
    cleanup.add(() => local.close());
    expect((await local.heartbeat()).pid).toBe(pid);

    const disc = await cli('disconnect', 'remote-node', '--shutdown');
    expect(disc).toMatchObject({ project: 'remote-node', stopped: true });
    await waitUntil(() => isRunning(pid), (r) => !r, 'daemon to stop');
    const again = (await cli('status', '127.0.0.1')) as Array<{ reachable: boolean }>;
    expect(again[0]?.reachable).toBe(false);
    process.exitCode = 0;
  });
  it('ennio node list shows each daemon state (asking in parallel, never deploying); status tells SSH failures apart', async () => {
    // One more node project whose SSH login fails (a key the server does not know).
    const strangerKey = join(dir, 'unknown_key');
    keygen(strangerKey, 'ed25519');
    const base = config.projects[0]!;
    const withBadKey = configSchema.parse({
      projects: [
        base,
        { ...base, name: 'bad-key', ssh_config: { ...base.ssh_config!, auth: { type: 'key', path: strangerKey } } },
        config.projects[1],
      ],
    });
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    cleanup.add(() => write.mockRestore());
    const run = async (json: boolean, ...args: string[]): Promise<string> => {
      const program = new Command('ennio').exitOverride();
      registerNodeCommands(program, { withNodeApi: inProcessNodeApi(withBadKey), loadConfig: () => withBadKey, json: () => json, ennioHome: () => join(dir, 'home') });
      out.length = 0;
      await program.parseAsync(['node', ...args], { from: 'user' });
      return out.join('');
    };
    type Row = { project: string; kind: string; state: string };

    // The previous test stopped the daemon: listed as not running, and list starts nothing.
    const before = JSON.parse(await run(true, 'list')) as Row[];
    expect(before.map((r) => r.project)).toEqual(['remote-node', 'bad-key']);
    expect(before[0]).toMatchObject({ kind: 'not-running', state: 'not running' });
    expect(before[1]?.kind).toBe('ssh-unreachable');
    expect(before[1]?.state).toMatch(/^ssh unreachable: authentication to .* failed/);
    expect((JSON.parse(await run(true, 'status', 'remote-node')) as Row[])[0]?.kind).toBe('not-running');

    // status: an SSH login failure is not "not running".
    const bad = JSON.parse(await run(true, 'status', 'bad-key')) as Row[];
    expect(bad[0]).toMatchObject({ project: 'bad-key', kind: 'ssh-unreachable', reachable: false });
    expect(bad[0]?.state).not.toContain('not running');
    process.exitCode = 0;

    await run(true, 'connect', 'remote-node');
    const after = JSON.parse(await run(true, 'list')) as Row[];
    expect(after[0]).toMatchObject({ project: 'remote-node', kind: 'running', state: 'running (healthy)' });
    const text = await run(false, 'list');
    expect(text).toMatch(/PROJECT\W+HOST\W+PORT\W+STATE/);
    expect(text).toContain('running (healthy)');
    expect(text).toContain('ssh unreachable: authentication');

    // disconnect without --shutdown says what it does (and does not do).
    const said = await run(false, 'disconnect', 'remote-node');
    expect(said).toContain('tunnel to root@127.0.0.1');
    expect(said).toContain('The daemon keeps running and exits after 600s without calls');
    expect(said).toContain('ennio node disconnect remote-node --shutdown');
    expect(said).not.toContain('disconnected from');
    expect((JSON.parse(await run(true, 'list')) as Row[])[0]?.kind).toBe('running');
    expect(JSON.parse(await run(true, 'disconnect', 'remote-node', '--shutdown'))).toMatchObject({ stopped: true });
  });
});
