/**
 * Finding, starting and replacing the orchestrator for this $ENNIO_HOME, from the CLI's
 * side. Like Gradle's and Bazel's daemons: the first command starts one in the background,
 * so every later command is a thin client of a warm process.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { request } from 'node:http';
import { EnnioError } from '../core/errors.js';
import { ennioHome, serverFiles, serverSocketPath } from '../core/home.js';
import { sameProcessAlive, startTicks } from '../core/proc.js';

export function homeAndSocket(): { home: string; socket: string } {
  const home = ennioHome(process.env);
  return { home, socket: serverSocketPath(home) };
}

/** Whether something accepts connections on the socket. */
export function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * V8's young generation grows to 3 × 16 MB by default, which a long-lived process that
 * allocates per sweep keeps: 4 MB semi-spaces hold the orchestrator watching 1,000
 * sessions ~20 MB lower (bench/status-bench.ts), for a few more (cheap) scavenges.
 */
const ORCHESTRATOR_NODE_FLAGS = ['--max-semi-space-size=4'];

/** Start an orchestrator in the background and wait until it accepts connections. */
export async function startDetached(config: string | undefined, waitMs = 60_000): Promise<void> {
  const { home, socket } = homeAndSocket();
  const log = serverFiles(home).log;
  mkdirSync(dirname(log), { recursive: true, mode: 0o700 });
  const fd = openSync(log, 'a', 0o600);
  // Its environment is this shell's: the default for TCP clients. Each socket request brings its own.
  const child = spawn(process.execPath, [...ORCHESTRATOR_NODE_FLAGS, process.argv[1]!, 'start', '--foreground', ...(config ? ['-c', config] : [])], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ENNIO_SERVER_CHILD: '1' },
  });
  closeSync(fd);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  child.unref();
  const deadline = Date.now() + waitMs;
  for (let delay = 10; Date.now() < deadline; delay = Math.min(delay * 2, 100)) {
    if (await socketAccepts(socket)) return;
    // It lost a race with another starter: that one's socket will appear; keep waiting.
    if (exited !== undefined && exited !== 0 && !(await socketAccepts(socket))) {
      const tail = readFileSync(log, 'utf8').trim().split('\n').slice(-3).join('\n');
      if (!/already runs/.test(tail)) {
        throw new EnnioError('SERVER_UNAVAILABLE', `the orchestrator did not start (exit ${exited}): ${tail}`, { hint: `see ${log}, or run with --no-server` });
      }
    }
    await pause(delay);
  }
  throw new EnnioError('SERVER_UNAVAILABLE', `the orchestrator did not answer on ${socket} within ${waitMs / 1000} s`, { hint: `see ${log}, or run with --no-server` });
}

/** The orchestrator's process as its state file names it (undefined: none recorded). */
function recordedProcess(home: string): { pid: number; start: string | undefined } | undefined {
  try {
    const { pid } = JSON.parse(readFileSync(serverFiles(home).state, 'utf8')) as { pid: number };
    return { pid, start: startTicks(pid) };
  } catch {
    return undefined;
  }
}

/**
 * Ask the orchestrator to stop and wait until its process is gone (not only its socket:
 * it still closes connections and the store after that). False when none was running.
 */
export async function stopServer(waitMs = 30_000): Promise<boolean> {
  const { home, socket } = homeAndSocket();
  const proc = recordedProcess(home);
  const answered = await new Promise<boolean>((resolve) => {
    const req = request({ socketPath: socket, method: 'POST', path: '/api/v1/server/stop' }, (res) => {
      res.resume();
      res.on('end', () => resolve(true));
    });
    req.on('error', () => resolve(false));
    req.end();
  });
  if (!answered) return false;
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const gone = !(await socketAccepts(socket)) && (proc === undefined || !sameProcessAlive(proc.pid, proc.start));
    if (gone) return true;
    await pause(25);
  }
  throw new EnnioError('SERVER_UNAVAILABLE', `the orchestrator on ${socket} did not stop within ${waitMs / 1000} s`);
}
