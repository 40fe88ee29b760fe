/**
 * Auth of ennio-node as seen by a gRPC client that is not ours (@grpc/grpc-js loading
 * proto/ennio_node.proto), and where the token must never show up: argv (`ps`), the log,
 * the environment of agent sessions.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grpcCall as call, grpcStatus, grpcStub, type EnnioNodeStub } from './helpers/grpc-client.js';
import { Cleanup, ROOT, buildDaemonBundle, startDaemon, tempDir, uniqueSocket, waitUntil, type DaemonProcess } from './helpers/node-daemon.js';

const cleanup = new Cleanup();
const TOKEN = `tok-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
let dir: string;

const stub = (port: number): EnnioNodeStub => grpcStub(cleanup, port);

async function daemonWith(name: string, extra: { args?: string[]; env?: Record<string, string>; stdin?: string }): Promise<DaemonProcess> {
  return cleanup.daemon(
    await startDaemon({
      workspaceRoot: join(dir, `ws-${name}`),
      tmuxSocket: cleanup.socket(uniqueSocket('auth')),
      logFile: join(dir, `${name}.log`),
      ...extra,
    }),
  );
}

beforeAll(async () => {
  await buildDaemonBundle();
  dir = cleanup.dir(tempDir('auth'));
});
afterAll(() => cleanup.run());

describe('token from a 0600 file', () => {
  let d: DaemonProcess;
  let c: EnnioNodeStub;
  beforeAll(async () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    d = await daemonWith('file', { args: ['--auth-token-file', file] });
    c = stub(d.port);
  });

  it('rejects calls without the authorization metadata (UNAUTHENTICATED)', async () => {
    const { err } = await call(c, 'Heartbeat', {});
    expect(err?.code).toBe(grpcStatus.UNAUTHENTICATED);
    expect(err?.details).toContain('missing authorization');
  });

  it('rejects a wrong token, a token prefix and a non-Bearer scheme', async () => {
    for (const value of ['Bearer wrong', `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, TOKEN]) {
      const { err } = await call(c, 'GetOutput', { handle: { id: 'x', runtime_name: 'tmux' }, lines: 1 }, value);
      expect(err?.code, value).toBe(grpcStatus.UNAUTHENTICATED);
    }
  });

  it('accepts the right token, with the same wire format as the spec', async () => {
    const { err, res } = await call(c, 'Heartbeat', {}, `Bearer ${TOKEN}`);
    expect(err).toBeNull();
    expect(res['healthy']).toBe(true);
    const missing = await call(c, 'IsAlive', { handle: { id: 'nothing-here', runtime_name: 'tmux', data: {} } }, `Bearer ${TOKEN}`);
    expect(missing.res).toMatchObject({ alive: false, state: 'missing' });
    // Error messages arrive readable (grpc-message percent-encoded the spec's way).
    const denied = await call(c, 'DestroyWorkspace', { workspace_path: '/etc' }, `Bearer ${TOKEN}`);
    expect(denied.err?.code).toBe(grpcStatus.PERMISSION_DENIED);
    expect(denied.err?.details).toContain('refusing "/etc": it is outside the workspace root');
  });

  it('never shows the token in ps or in its log', () => {
    const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
    expect(ps).toContain(`--auth-token-file ${join(dir, 'token')}`);
    expect(ps).not.toContain(TOKEN);
    const log = d.log();
    expect(log).toContain('"auth token required"');
    expect(log).toContain('"code":"Unauthenticated"');
    expect(log).not.toContain(TOKEN);
  });
});

describe('token from the environment, argv or stdin', () => {
  it('scrubs ENNIO_NODE_AUTH_TOKEN so agent sessions never inherit it', async () => {
    const d = await daemonWith('env', { env: { ENNIO_NODE_AUTH_TOKEN: TOKEN } });
    const c = stub(d.port);
    const auth = `Bearer ${TOKEN}`;
    const created = await call(c, 'CreateRuntime', { session_id: 'e1', session_name: 'e1', launch_command: 'env; exec cat', cwd: join(dir, 'ws-env') }, auth);
    expect(created.err).toBeNull();
    const handle = (created.res as { handle: object }).handle;
    const out = await waitUntil(
      async () => String((await call(c, 'GetOutput', { handle, lines: 200 }, auth)).res['output'] ?? ''),
      (o) => o.includes('PATH='),
      'env output',
    );
    expect(out).not.toContain('ENNIO_NODE_AUTH_TOKEN');
    expect(out).not.toContain(TOKEN);
  });

  it('lets --auth-token win over ENNIO_NODE_AUTH_TOKEN, hides it from ps at once and warns', async () => {
    const flagToken = `${TOKEN}-flag`;
    const d = await daemonWith('argv', { args: ['--auth-token', flagToken], env: { ENNIO_NODE_AUTH_TOKEN: `${TOKEN}-env` } });
    const c = stub(d.port);
    expect((await call(c, 'Heartbeat', {}, `Bearer ${flagToken}`)).err).toBeNull();
    expect((await call(c, 'Heartbeat', {}, `Bearer ${TOKEN}-env`)).err?.code).toBe(grpcStatus.UNAUTHENTICATED);
    // The process title replaced the argv ps reads; the rest of the command line stays readable.
    const cmdline = readFileSync(`/proc/${d.pid}/cmdline`, 'utf8');
    expect(cmdline).not.toContain(flagToken);
    expect(cmdline).toContain('--auth-token [hidden]');
    expect(spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout).not.toContain(flagToken);
    const warning = d.log().split('\n').find((l) => l.includes('"level":"warn"') && l.includes('--auth-token'));
    expect(warning).toContain('ENNIO_NODE_AUTH_TOKEN');
    expect(warning).toContain('--auth-token-file');
    expect(d.log()).toContain('"source":"argv"');
    expect(d.log()).not.toContain(flagToken);
  });

  it('reads the token from stdin with --auth-token-file -', async () => {
    const d = await daemonWith('stdin', { args: ['--auth-token-file', '-'], stdin: `${TOKEN}\n` });
    const c = stub(d.port);
    expect((await call(c, 'Heartbeat', {}, `Bearer ${TOKEN}`)).err).toBeNull();
    expect((await call(c, 'Heartbeat', {}, 'Bearer nope')).err?.code).toBe(grpcStatus.UNAUTHENTICATED);
  });
});

describe('refusing to start', () => {
  function run(args: string[]): { status: number | null; stderr: string } {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist/ennio-node.cjs'), ...args], { encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr };
  }

  it('exits 2 with a clear message for a token file others can read', () => {
    const file = join(dir, 'open-token');
    writeFileSync(file, TOKEN);
    chmodSync(file, 0o644);
    const r = run(['--auth-token-file', file, '--port', '0']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('readable by other users (mode 644)');
    expect(r.stderr).not.toContain(TOKEN);
  });

  it('exits 2 for unknown flags and bad values, naming them', () => {
    expect(run(['--prot', '1'])).toMatchObject({ status: 2, stderr: expect.stringContaining("'--prot'") });
    expect(run(['--port', '99999'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--port must be between 0 and 65535') });
    expect(run(['--idle-timeout', '-1'])).toMatchObject({ status: 2 });
    expect(run(['--tmux-socket', 'a/b'])).toMatchObject({ status: 2, stderr: expect.stringContaining('--tmux-socket') });
  });

  it('prints --version and --help', () => {
    const v = spawnSync(process.execPath, [join(ROOT, 'dist/ennio-node.cjs'), '--version'], { encoding: 'utf8' });
    expect(v.stdout).toMatch(/^ennio-node \d+\.\d+\.\d+/);
    const h = spawnSync(process.execPath, [join(ROOT, 'dist/ennio-node.cjs'), '--help'], { encoding: 'utf8' });
    expect(h.stdout).toContain('--auth-token-file');
    expect(h.status).toBe(0);
  });
});
