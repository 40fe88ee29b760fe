/**
 * Test helpers for ennio-node: build the daemon bundle once (same esbuild options as
 * scripts/build.mjs), start real daemon processes on ephemeral ports with their own tmux
 * socket, and clean everything up (daemons, tmux servers, temp dirs) even on failure.
 */
import { isEnnioError, type EnnioError } from '../../src/core/errors.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

import { killTmuxServer } from './tmux-server.js';
export { killTmuxServer };
export const ROOT = resolve(import.meta.dirname, '../..');
export const BUNDLE = join(ROOT, 'dist/ennio-node.cjs');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Build dist/ennio-node.cjs when missing or older than src/ (atomic rename, so test files
 * running in parallel never see a half-written bundle). `version` builds a variant that
 * reports another version (for upgrade tests) into `outfile`.
 */
export async function buildDaemonBundle(options: { outfile?: string; version?: string } = {}): Promise<string> {
  const outfile = options.outfile ?? BUNDLE;
  if (options.version === undefined && existsSync(outfile) && statSync(outfile).mtimeMs >= newestSource(join(ROOT, 'src'))) {
    return outfile;
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  mkdirSync(join(outfile, '..'), { recursive: true });
  const tmp = `${outfile}.${process.pid}.tmp`;
  await build({
    bundle: true,
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
    define: { __ENNIO_VERSION__: JSON.stringify(options.version ?? pkg.version) },
    entryPoints: [join(ROOT, 'src/node/daemon/main.ts')],
    outfile: tmp,
    format: 'cjs',
    external: ['*.node'],
    banner: { js: '#!/usr/bin/env node' },
  });
  renameSync(tmp, outfile);
  return outfile;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `ennio-${prefix}-`));
}

let counter = 0;
export function uniqueSocket(prefix = 'nt'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

export function tmux(socket: string, ...args: string[]): { code: number; stdout: string } {
  const r = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout };
}

/** Alive and not a zombie (daemons detached with setsid are reaped late in containers). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false; // gone between the two checks
  }
}

export interface DaemonProcess {
  port: number;
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  log(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  workspaceRoot: string;
  tmuxSocket: string;
  logFile: string;
  idleTimeout?: number;
  port?: number;
  args?: string[];
  env?: Record<string, string>;
  /** Written to the daemon's stdin (for --auth-token-file -). */
  stdin?: string;
  bundle?: string;
}

/** Start the bundled daemon on a free port and wait for its "listening" log line. */
export async function startDaemon(opts: StartOptions): Promise<DaemonProcess> {
  const args = [
    opts.bundle ?? BUNDLE,
    '--port', String(opts.port ?? 0),
    '--idle-timeout', String(opts.idleTimeout ?? 600),
    '--workspace-root', opts.workspaceRoot,
    '--tmux-socket', opts.tmuxSocket,
    '--log-file', opts.logFile,
    ...(opts.args ?? []),
  ];
  // detached: the daemon gets its own process group, like a deployed one (setsid).
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...opts.env },
    stdio: ['pipe', 'ignore', 'pipe'],
    detached: true,
  });
  child.stdin?.end(opts.stdin ?? '');
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  const log = (): string => (existsSync(opts.logFile) ? readFileSync(opts.logFile, 'utf8') : '');
  const port = await new Promise<number>((res, rej) => {
    let done = false;
    const check = (): void => {
      if (done) return;
      const m = /"msg":"listening".*?"port":(\d+)/.exec(log().split('\n').filter((l) => l.includes(`"pid":${child.pid}`)).join('\n'));
      if (m?.[1]) {
        done = true;
        res(Number(m[1]));
      } else setTimeout(check, 20);
    };
    void exited.then(({ code }) => {
      if (!done) {
        done = true;
        rej(new Error(`daemon exited (${code}) before listening: ${stderr}\n${log()}`));
      }
    });
    check();
  });
  return {
    port,
    pid: child.pid!,
    child,
    logFile: opts.logFile,
    exited,
    log,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        await exited;
      }
    },
  };
}

/**
 * SIGTERM (the daemon detaches its tmux control client and removes its control session),
 * SIGKILL only if it is still there long after — a busy machine is no reason to cut a
 * clean shutdown short, and tests assert on how it ended.
 */
export async function stopDaemonProcess(d: DaemonProcess): Promise<void> {
  if (d.child.exitCode !== null || d.child.signalCode !== null) return;
  const timer = setTimeout(() => d.child.kill('SIGKILL'), 30_000);
  d.child.kill('SIGTERM');
  await d.exited;
  clearTimeout(timer);
}

/** Tracks everything a test started, for one afterEach/afterAll cleanup. */
export class Cleanup {
  private readonly tasks: Array<() => Promise<void> | void> = [];
  add(task: () => Promise<void> | void): void {
    this.tasks.push(task);
  }
  dir(path: string): string {
    this.add(() => rmSync(path, { recursive: true, force: true }));
    return path;
  }
  socket(name: string): string {
    this.add(() => killTmuxServer(name));
    return name;
  }
  daemon(d: DaemonProcess): DaemonProcess {
    this.add(() => stopDaemonProcess(d));
    return d;
  }
  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (const task of this.tasks.splice(0).reverse()) {
      try {
        await task();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
  }
}

/** Poll `probe` until `ok` holds (bounded generously for a busy machine; the assertion is on the value, not the time). */
export async function waitUntil<T>(probe: () => Promise<T> | T, ok: (v: T) => boolean, what: string, limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  let last: T = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
    last = await probe();
  }
  return last;
}

/** A dial function that connects straight to a local TCP port (no SSH). */
export function tcpDial(port: number): () => Promise<import('node:stream').Duplex> {
  return async () => {
    const net = await import('node:net');
    return new Promise((res, rej) => {
      const s = net.connect(port, '127.0.0.1');
      s.setNoDelay(true);
      s.once('connect', () => res(s));
      s.once('error', rej);
    });
  };
}

/** Create a git repository with one commit on `main`. */
export function gitRepo(path: string): string {
  const run = (...args: string[]): void => {
    const r = spawnSync('git', args, { cwd: path, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  mkdirSync(path, { recursive: true });
  run('init', '-q', '-b', 'main');
  run('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'init');
  return path;
}

export function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** The EnnioError a call fails with (a call that succeeds fails the test). */
export async function failure(p: Promise<unknown>): Promise<EnnioError> {
  try {
    await p;
  } catch (err) {
    if (isEnnioError(err)) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}
