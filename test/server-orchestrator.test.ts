/**
 * The orchestrator itself (runs in the "server" project only): start/stop/status, one per
 * $ENNIO_HOME, socket permissions, the TCP port's bearer token, a kill -9 replaced by the
 * next command, a different build replaced transparently, two callers with different
 * configs and environments at once, and the resumable event stream.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, createWorld, demoProject, orchestratorPid, ROOT, waitFor, type World } from './helpers/cli.js';

let w: World;
let config: string;
let port: number;
const TOKEN = 'tcp-token-for-tests-7f3a9c';

interface Session { id: string; status: string }
interface ServerState { running: boolean; pid: number; build: string; socket: string; port: number | string }

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function http(opts: { socketPath?: string; port?: number; path: string; method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...(opts.socketPath ? { socketPath: opts.socketPath } : { host: '127.0.0.1', port: opts.port }), path: opts.path, method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Reads an SSE stream until `enough` says so, then closes it. */
function readEvents(socketPath: string, headers: Record<string, string>, query: string, enough: (ids: number[]) => boolean): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const ids: number[] = [];
    const req = request({ socketPath, path: `/api/v1/events${query}`, headers }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const id = /^id: (\d+)$/m.exec(buf.slice(0, i));
          if (id) ids.push(Number(id[1]));
          buf = buf.slice(i + 2);
        }
        if (enough(ids)) {
          req.destroy();
          resolve(ids);
        }
      });
    });
    req.on('error', (err) => (req.destroyed && enough(ids) ? undefined : reject(err)));
    req.end();
  });
}

const serverState = (): ServerState => JSON.parse(w.run(['-c', config, 'server', 'status', '--json']).stdout) as ServerState;
const sessions = (): Session[] => JSON.parse(w.run(['-c', config, 'status', '--json']).stdout) as Session[];
const socketPath = (): string => serverState().socket;

beforeAll(async () => {
  w = createWorld();
  w.makeRepo();
  port = await freePort();
  config = w.writeConfig(`port: ${port}\napi_token: ${TOKEN}\nserver: { idle_exit: 10m }\n${demoProject()}`);
});
afterAll(() => w.cleanup());

describe('ennio start / stop / server status', () => {
  it('runs one orchestrator per ENNIO_HOME on a 0600 socket, and says where it runs', () => {
    const started = w.run(['-c', config, 'start', '--detach']);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const pid = Number(/pid (\d+)/.exec(started.stdout)?.[1]);
    const state = serverState();
    expect(state.running).toBe(true);
    expect(state.pid).toBe(pid);
    expect(state.port).toBe(port);
    expect(statSync(state.socket).mode & 0o777).toBe(0o600);
    expect(statSync(w.home).mode & 0o777).toBe(0o700);

    const second = w.run(['-c', config, 'start', '--detach']);
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain(`already runs (pid ${pid}`);

    const human = w.run(['-c', config, 'server', 'status']).stdout;
    for (const field of ['pid', 'version', 'uptime', 'socket', 'port', 'sessions watched', 'last sweep']) expect(human).toContain(field);

    expect(w.run(['stop']).stdout).toContain('orchestrator stopped');
    expect(JSON.parse(w.run(['server', 'status', '--json']).stdout)).toMatchObject({ running: false });
  });

  it('refuses a non-loopback address without api_token', () => {
    const path = join(w.dir, 'exposed.yaml');
    writeFileSync(path, `server: { host: 0.0.0.0 }\n${demoProject()}`);
    const res = w.run(['-c', path, 'status']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('api_token');
    expect(res.stderr).toContain('0.0.0.0');
  });
});

describe('the TCP port', () => {
  it('answers only with the bearer token, which never reaches the log or status', async () => {
    expect(w.run(['-c', config, 'status']).code).toBe(0); // autostarts it
    await waitFor(() => serverState().port === port, 'the TCP port');
    expect((await http({ port, path: '/api/v1/sessions' })).status).toBe(401);
    expect((await http({ port, path: '/api/v1/sessions', headers: { authorization: 'Bearer wrong-token' } })).status).toBe(401);
    expect((await http({ port, path: '/api/v1/sessions', headers: { authorization: `Bearer ${TOKEN.slice(0, -1)}` } })).status).toBe(401);
    const ok = await http({ port, path: '/api/v1/sessions', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toHaveProperty('sessions');
    expect(readFileSync(join(w.home, 'logs', 'server.log'), 'utf8')).not.toContain(TOKEN);
    expect(w.run(['-c', config, 'server', 'status', '--json']).stdout).not.toContain(TOKEN);
  });
});

describe('an orchestrator that goes away', () => {
  it('killed -9 in the middle of a command is replaced by the next command; no session is lost', async () => {
    const spawned = w.run(['-c', config, 'spawn', 'app', '--json']);
    expect(spawned.code).toBe(0);
    const s = JSON.parse(spawned.stdout) as Session;
    const before = orchestratorPid(w.home);
    // A streaming command in flight when it dies.
    const follower = w.start(['-c', config, 'logs', s.id, '-f']);
    let followerErr = '';
    follower.stderr?.on('data', (d: Buffer) => (followerErr += d.toString()));
    const followerExit = new Promise<number | null>((r) => follower.on('close', (code) => r(code)));
    let followerOut = '';
    follower.stdout?.on('data', (d: Buffer) => (followerOut += d.toString()));
    await waitFor(() => followerOut.includes('demo-agent ready'), 'logs -f to stream');
    process.kill(before, 'SIGKILL');
    expect(await followerExit).not.toBe(0);
    expect(followerErr).toContain('orchestrator');

    const after = sessions().find((x) => x.id === s.id);
    expect(after?.status).toBe('running');
    expect(orchestratorPid(w.home)).not.toBe(before);
    expect(w.run(['-c', config, 'send', s.id, 'still there?']).code).toBe(0);
    await waitFor(() => w.run(['-c', config, 'logs', s.id]).stdout.includes('still there?'), 'the message to arrive');
    expect(w.run(['-c', config, 'session', 'kill', s.id]).code).toBe(0);
  });

  it('of another build is replaced transparently, sessions kept', () => {
    const spawned = JSON.parse(w.run(['-c', config, 'spawn', 'app', '--json']).stdout) as Session;
    const build = serverState().build;
    expect(build).toMatch(/^[0-9a-f]{12}$/);
    expect(w.run(['stop']).code).toBe(0);
    // A copy of this build with another build id stands in for an older install (inside the
    // repo, so that it finds node_modules).
    const other = join(ROOT, `dist-other-${process.pid}`);
    try {
      cpSync(join(ROOT, 'dist'), other, { recursive: true });
      const files = [join(other, 'cli.js'), ...readdirSync(join(other, 'chunks')).map((f) => join(other, 'chunks', f))];
      let replaced = 0;
      for (const f of files) {
        const text = readFileSync(f, 'utf8');
        if (!text.includes(build)) continue;
        writeFileSync(f, text.replaceAll(build, 'feedfacecafe'));
        replaced++;
      }
      expect(replaced).toBeGreaterThan(0);
      const otherCli = join(other, 'cli.js');
      expect(cliIn(w.dir, ['-c', config, 'start', '--detach'], {}, otherCli).code).toBe(0);
      expect((JSON.parse(cliIn(w.dir, ['server', 'status', '--json'], {}, otherCli).stdout) as ServerState).build).toBe('feedfacecafe');

      const list = w.run(['-c', config, 'status', '--json']);
      expect(list.stderr).toBe('');
      expect(list.code).toBe(0);
      expect((JSON.parse(list.stdout) as Session[]).find((x) => x.id === spawned.id)?.status).toBe('running');
      expect(serverState().build).toBe(build);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    expect(w.run(['-c', config, 'session', 'kill', spawned.id]).code).toBe(0);
  });
});

/** The CLI (or another build's) run from a caller's own directory and environment. */
function cliIn(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}, cli = CLI): { code: number; stdout: string; stderr: string } {
  const res = spawnSync(process.execPath, [cli, ...args], { cwd, env: { ...w.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

function cliAsync(cwd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...w.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('several callers at once', () => {
  it('each request runs with its own config and its own environment', async () => {
    const callers = ['one', 'two'].map((name) => {
      const dir = join(w.dir, `caller-${name}`);
      mkdirSync(dir);
      const repo = w.makeRepo(`caller-${name}/repo`);
      writeFileSync(join(dir, 'ennio.yaml'), [
        'projects:',
        `  - name: proj-${name}`,
        `    path: ${repo}`,
        '    agent: custom',
        '    agent_config:',
        // $MARK comes from the agent's environment, ${LABEL} from the config's expansion.
        `      command: 'echo "mark=$MARK label=\${LABEL}"; exec sleep 600'`,
        '',
      ].join('\n'));
      return { name, dir, env: { MARK: `mark-${name}`, LABEL: `label-${name}` } };
    });
    const runs = await Promise.all(callers.map((c) => cliAsync(c.dir, ['spawn', `proj-${c.name}`, '--json'], c.env)));
    for (const [i, c] of callers.entries()) {
      const r = runs[i]!;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const s = JSON.parse(r.stdout) as Session;
      await waitFor(() => cliIn(c.dir, ['logs', s.id], c.env).stdout.includes(`mark=mark-${c.name} label=label-${c.name}`), `${c.name}'s agent to show its own environment`);
      // Each config sees only its own projects' sessions.
      expect((JSON.parse(cliIn(c.dir, ['status', '--json'], c.env).stdout) as Session[]).map((x) => x.id)).toEqual([s.id]);
      expect(cliIn(c.dir, ['session', 'kill', s.id], c.env).code).toBe(0);
    }
    // Neither value leaked into the orchestrator's own log.
    expect(readFileSync(join(w.home, 'logs', 'server.log'), 'utf8')).not.toContain('mark-one');
  });
});

describe('GET /api/v1/events', () => {
  it('streams session events and resumes after Last-Event-ID', async () => {
    const socket = socketPath();
    const s = JSON.parse(w.run(['-c', config, 'spawn', 'app', '--json']).stdout) as Session;
    expect(w.run(['-c', config, 'session', 'kill', s.id]).code).toBe(0);
    const all = await readEvents(socket, {}, '?after=0', (ids) => ids.length >= 3);
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect([...all].sort((a, b) => a - b)).toEqual(all);
    const resumed = await readEvents(socket, { 'last-event-id': String(all[1]) }, '', (ids) => ids.length >= 1);
    expect(resumed[0]).toBe(all[2]);
  });
});
