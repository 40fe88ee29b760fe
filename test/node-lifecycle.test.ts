/**
 * ennio-node lifecycle: the idle timeout (exits cleanly, tmux sessions survive), the
 * Shutdown call (graceful: calls in flight finish first, new ones are refused), signals,
 * and a port already in use.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeClient } from '../src/node/client/node-client.js';
import {
  Cleanup, ROOT, buildDaemonBundle, isRunning, startDaemon, tcpDial, tempDir, tmux, uniqueSocket, waitUntil,
  type DaemonProcess, failure } from './helpers/node-daemon.js';

const cleanup = new Cleanup();
let dir: string;

async function daemon(name: string, opts: { idleTimeout?: number; env?: Record<string, string> } = {}): Promise<{ d: DaemonProcess; c: NodeClient; socket: string }> {
  const socket = cleanup.socket(uniqueSocket('life'));
  const d = cleanup.daemon(
    await startDaemon({ workspaceRoot: join(dir, `ws-${name}`), tmuxSocket: socket, logFile: join(dir, `${name}.log`), ...opts }),
  );
  const c = new NodeClient({ dial: tcpDial(d.port), token: () => undefined, label: name });
  cleanup.add(() => c.close());
  return { d, c, socket };
}

beforeAll(async () => {
  await buildDaemonBundle();
  dir = cleanup.dir(tempDir('life'));
});
afterAll(() => cleanup.run());

describe('idle timeout', () => {
  it('exits cleanly after --idle-timeout without calls and leaves tmux sessions running', async () => {
    const { d, c, socket } = await daemon('idle', { idleTimeout: 5 });
    const h = await c.createRuntime({ sessionId: 'i1', name: 'idle-agent', launchCommand: 'exec cat', env: {}, cwd: join(dir, 'ws-idle') });
    expect(await c.liveness(h)).toBe('running');
    // tmux's server is its own session leader, not in the daemon's process group.
    const serverPid = Number(tmux(socket, 'display-message', '-p', '-t', '=idle-agent:', '#{pid}').stdout.trim());
    const pgid = Number(spawnSync('ps', ['-o', 'pgid=', '-p', String(serverPid)], { encoding: 'utf8' }).stdout.trim());
    expect(pgid).not.toBe(d.pid);
    const exit = await d.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(d.log()).toContain('idle timeout reached');
    expect(d.log()).toContain('"reason":"idle"');
    expect(tmux(socket, 'has-session', '-t', '=idle-agent').code).toBe(0);
    expect(isRunning(serverPid)).toBe(true);
  });
});

describe('Shutdown', () => {
  it('graceful: refuses new calls, lets the call in flight finish, then exits 0', async () => {
    // git runs GIT_SSH_COMMAND for an ssh:// clone; this one waits for a gate file, so
    // the CreateWorkspace call stays in flight exactly as long as the test wants.
    const gate = join(dir, 'gate');
    const started = join(dir, 'started');
    const script = join(dir, 'slow-ssh.sh');
    writeFileSync(script, `#!/bin/sh\ntouch '${started}'\nwhile [ ! -e '${gate}' ]; do sleep 0.05; done\necho 'slow remote says no' >&2\nexit 128\n`, { mode: 0o755 });
    const { d, c } = await daemon('graceful', { env: { GIT_SSH_COMMAND: script } });
    const inFlight = failure(c.createWorkspace({ projectId: 'p', sessionId: 's', type: 'clone', path: '', repoUrl: 'ssh://example.invalid/repo.git', defaultBranch: 'main' }));
    await waitUntil(() => existsSync(started), (v) => v, 'git to start');

    expect(await c.shutdown(true)).toBe(true);
    const refused = await failure(c.heartbeat());
    expect(refused.code).toBe('NODE_UNAVAILABLE');
    expect(refused.message).toContain('shutting down');
    expect(isRunning(d.pid)).toBe(true); // still finishing the clone

    writeFileSync(gate, '');
    const err = await inFlight;
    expect(err.code).toBe('COMMAND_FAILED'); // the clone's own result, not a cancellation
    expect(err.message).toContain('slow remote says no');
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(d.log()).toContain('"reason":"shutdown-rpc"');
  });

  it('non-graceful: answers accepted=true and exits', async () => {
    const { d, c } = await daemon('hard');
    expect(await c.shutdown(false)).toBe(true);
    expect(await d.exited).toEqual({ code: 0, signal: null });
  });

  it('SIGTERM shuts down gracefully with exit status 0', async () => {
    const { d, c } = await daemon('term');
    await c.heartbeat();
    d.child.kill('SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(d.log()).toContain('"reason":"signal"');
  });
});

describe('startup failures', () => {
  it('exits 1 with a clear message when the port is taken', async () => {
    const blocker: Server = createServer();
    const port = await new Promise<number>((res) => blocker.listen(0, '127.0.0.1', () => res((blocker.address() as { port: number }).port)));
    cleanup.add(() => new Promise<void>((res) => blocker.close(() => res())));
    const r = spawnSync(process.execPath, [join(ROOT, 'dist/ennio-node.cjs'), '--port', String(port), '--workspace-root', join(dir, 'ws-x')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
  });
});
