/**
 * ListRuntimes (extension RPC): the real daemon answers for many runtimes in one call; a
 * daemon that predates it (a Connect server serving only the older RPCs) answers
 * UNIMPLEMENTED, and the client falls back to IsAlive per runtime.
 */
import { mkdirSync } from 'node:fs';
import * as http2 from 'node:http2';
import { join } from 'node:path';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeClient } from '../src/node/client/node-client.js';
import { runtimeStates } from '../src/node/client/list-runtimes.js';
import { EnnioNode } from '../src/node/gen/ennio_node_pb.js';
import type { RuntimeHandle } from '../src/strategies/types.js';
import { Cleanup, buildDaemonBundle, startDaemon, tcpDial, tempDir, uniqueSocket, waitUntil } from './helpers/node-daemon.js';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

describe('ListRuntimes on the real daemon', () => {
  let client: NodeClient;
  let socket: string;
  let dir: string;

  beforeAll(async () => {
    await buildDaemonBundle();
    dir = cleanup.dir(tempDir('list-runtimes'));
    socket = cleanup.socket(uniqueSocket('lr'));
    const daemon = cleanup.daemon(await startDaemon({ workspaceRoot: join(dir, 'ws'), tmuxSocket: socket, logFile: join(dir, 'daemon.log') }));
    client = new NodeClient({ dial: tcpDial(daemon.port), token: () => undefined, label: 'test-node' });
    cleanup.add(() => client.close());
  });

  it('reports running, exited (with exit code), missing and invalid handles in one call', async () => {
    // The daemon starts runtimes only inside its workspace root.
    const cwd = join(dir, 'ws', 'lr');
    mkdirSync(cwd, { recursive: true });
    const run = await client.createRuntime({ sessionId: 'lr1', name: 'lr-run', launchCommand: 'exec cat', env: {}, cwd });
    const quit = await client.createRuntime({ sessionId: 'lr2', name: 'lr-quit', launchCommand: 'exit 4', env: {}, cwd });
    const ghost: RuntimeHandle = { id: 'lr-ghost', runtimeName: 'tmux', data: { tmux_socket: socket } };
    const otherServer: RuntimeHandle = { id: 'lr-elsewhere', runtimeName: 'tmux', data: { tmux_socket: uniqueSocket('lr-none') } };
    const invalid: RuntimeHandle = { id: 'lr-bad', runtimeName: 'tmux', data: { tmux_socket: 'no such/socket' } };
    const handles = [run, quit, ghost, otherServer, invalid];
    const states = await waitUntil(
      async () => (await client.listRuntimes(handles))!,
      // tmux marks a pane dead when its pty closes, and knows the exit status a moment later.
      (m) => (m.get('lr-quit') as { exitCode?: number } | undefined)?.exitCode !== undefined,
      'the quitting runtime to exit',
    );
    expect([...states.keys()]).toEqual(['lr-run', 'lr-quit', 'lr-ghost', 'lr-elsewhere', 'lr-bad']);
    expect(states.get('lr-run')).toMatchObject({ state: 'running', currentCommand: 'cat' });
    expect((states.get('lr-run') as { activityAt?: number }).activityAt).toBeGreaterThan(Date.parse('2020-01-01'));
    expect(states.get('lr-quit')).toMatchObject({ state: 'exited', exitCode: 4 });
    expect(states.get('lr-ghost')).toEqual({ state: 'missing' });
    expect(states.get('lr-elsewhere')).toEqual({ state: 'missing' }); // no tmux server there: no sessions
    expect(states.get('lr-bad')).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('tmux_socket') });
    // The same answers IsAlive gives one by one.
    for (const h of [run, quit, ghost]) expect((states.get(h.id) as { state: string }).state).toBe(await client.liveness(h));
  });

  it('answers an empty request with nothing, without a call', async () => {
    expect(await client.listRuntimes([])).toEqual(new Map());
  });
});

describe('a daemon older than ListRuntimes', () => {
  let client: NodeClient;
  const isAliveCalls: string[] = [];

  beforeAll(async () => {
    // Only the RPCs of the original protocol that this test needs: ListRuntimes is an unknown path.
    const handler = connectNodeAdapter({
      grpc: true,
      grpcWeb: false,
      connect: false,
      routes: (router) => {
        router.rpc(EnnioNode.method.isAlive, (req) => {
          const id = req.handle?.id ?? '';
          isAliveCalls.push(id);
          return { alive: id === 'old-run', state: id === 'old-run' ? 'running' : id === 'old-quit' ? 'exited' : 'missing' };
        });
      },
    });
    const server = http2.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.add(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on('session', (s) => sessions.add(s));
    cleanup.add(() => sessions.forEach((s) => s.destroy()));
    const port = (server.address() as { port: number }).port;
    client = new NodeClient({ dial: tcpDial(port), token: () => undefined, label: 'old-node' });
    cleanup.add(() => client.close());
  });

  it('says it does not know ListRuntimes, and the sweep falls back to IsAlive per runtime', async () => {
    const handles: RuntimeHandle[] = ['old-run', 'old-quit', 'old-gone'].map((id) => ({ id, runtimeName: 'tmux', data: {} }));
    expect(await client.listRuntimes(handles)).toBeUndefined();
    const states = await runtimeStates(client, handles);
    expect(Object.fromEntries(states)).toEqual({ 'old-run': { state: 'running' }, 'old-quit': { state: 'exited' }, 'old-gone': { state: 'missing' } });
    expect(isAliveCalls.sort()).toEqual(['old-gone', 'old-quit', 'old-run']);
  });
});
