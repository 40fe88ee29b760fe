/**
 * For node-over-SSH tests: a RemoteNode for a test sshd with everything isolated in a
 * temp dir (remote state dir, workspace root, ENNIO_HOME token store, tmux socket, a
 * free daemon port), and a cleanup that stops the daemons it started.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { ExecOptions, ExecResult } from '../../src/host/host.js';
import { SshHost } from '../../src/host/ssh/ssh-host.js';
import { RemoteNode, type RemoteNodeOptions } from '../../src/node/client/remote-node.js';
import { TokenStore } from '../../src/node/client/token-store.js';
import { freePort } from './sshd.js';
import { Cleanup, isRunning, uniqueSocket } from './node-daemon.js';

export interface NodeEnv {
  dir: string;
  remoteDir: string;
  workspaceRoot: string;
  ennioHome: string;
  tmuxSocket: string;
  port: number;
}

export async function nodeEnv(cleanup: Cleanup, dir: string): Promise<NodeEnv> {
  const env: NodeEnv = {
    dir,
    remoteDir: join(dir, 'remote-ennio-node'),
    workspaceRoot: join(dir, 'workspaces'),
    ennioHome: join(dir, 'ennio-home'),
    tmuxSocket: cleanup.socket(uniqueSocket('nssh')),
    port: await freePort(),
  };
  // Whatever happens in the test, no daemon of this env outlives it.
  cleanup.add(() => killRecordedDaemon(env));
  return env;
}

export function daemonPid(env: NodeEnv): number | undefined {
  try {
    return Number(readFileSync(join(env.remoteDir, `daemon-${env.port}.pid`), 'utf8').trim());
  } catch {
    return undefined;
  }
}

/**
 * Daemons of this env: the one in the pid file, and any process whose command line names
 * this env's (unique) workspace root — so a daemon the pid file does not know about (two
 * started at once by broken code) cannot outlive the test either.
 */
function daemonPids(env: NodeEnv): number[] {
  const pids = new Set<number>();
  const recorded = daemonPid(env);
  if (recorded !== undefined) pids.add(recorded);
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (args.includes(env.workspaceRoot) && args.includes('--workspace-root')) pids.add(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return [...pids].filter((pid) => pid !== process.pid && isRunning(pid));
}

/** SIGTERM the daemons this env started (they detach from tmux cleanly), SIGKILL after 5 s. */
export async function killRecordedDaemon(env: NodeEnv): Promise<void> {
  const signal = (pid: number, sig: NodeJS.Signals): void => {
    try {
      process.kill(pid, sig);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // exited meanwhile
    }
  };
  const pids = daemonPids(env);
  for (const pid of pids) signal(pid, 'SIGTERM');
  for (let i = 0; i < 100 && pids.some(isRunning); i++) await new Promise((r) => setTimeout(r, 50));
  for (const pid of pids.filter(isRunning)) signal(pid, 'SIGKILL');
}

export function remoteNode(host: SshHost, env: NodeEnv, extra: Partial<RemoteNodeOptions> & { idleTimeout?: number; binaryPath?: string; token?: string } = {}): RemoteNode {
  const node = new RemoteNode({
    host,
    node: {
      port: env.port,
      idle_timeout: extra.idleTimeout ?? 600,
      workspace_root: env.workspaceRoot,
      ...(extra.binaryPath !== undefined ? { ennio_binary_path: extra.binaryPath } : {}),
      ...(extra.token !== undefined ? { auth_token: extra.token } : {}),
    },
    tokens: new TokenStore(env.ennioHome),
    remoteDir: env.remoteDir,
    tmuxSocket: env.tmuxSocket,
    ...extra,
  });
  return node;
}

/** One command the client asked the remote to run (exactly what SshHost.exec got). */
export interface RecordedExec {
  argv: string[];
  env: Record<string, string> | undefined;
  /** stdin (the one place a secret may travel). */
  input: string | undefined;
}

/**
 * An SshHost that records every exec it is asked for — including the ones its own
 * uploadFile makes — and every forwardOut, so a test can check what each remote command
 * line and environment contained over a whole deploy (not just one `ps` snapshot).
 */
export class RecordingSshHost extends SshHost {
  readonly execs: RecordedExec[] = [];
  readonly forwards: Array<{ host: string; port: number }> = [];

  override exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const input = options.input === undefined ? undefined : Buffer.isBuffer(options.input) ? options.input.toString('latin1') : options.input;
    this.execs.push({ argv: [...argv], env: options.env === undefined ? undefined : { ...options.env }, input });
    return super.exec(argv, options);
  }

  override forwardOut(host: string, port: number): Promise<Duplex> {
    this.forwards.push({ host, port });
    return super.forwardOut(host, port);
  }

  /** Recorded execs whose argv or environment contains `secret` (or its base64 form). */
  leaking(secret: string): RecordedExec[] {
    const forms = [secret, Buffer.from(secret).toString('base64'), Buffer.from(`${secret}\n`).toString('base64')];
    return this.execs.filter((e) => {
      const visible = [...e.argv, ...Object.entries(e.env ?? {}).map(([k, v]) => `${k}=${v}`)].join('\0');
      return forms.some((f) => visible.includes(f));
    });
  }
}

/** Why execve tracing cannot run here, or undefined when it can (root and strace). */
export function execTraceSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to trace sshd';
  if (spawnSync('strace', ['-V']).status !== 0) return 'strace is not installed';
  return undefined;
}

function tracerPid(pid: number): number {
  try {
    return Number(/^TracerPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

export interface ExecTrace {
  /** Detach (tracees keep running untouched) and return every execve seen, argv and environment in full. */
  stop(): Promise<string>;
}

/**
 * Record every execve of `pid` and all its future descendants (an sshd listener: every
 * session, shell, command and the daemon it starts), with complete argv AND environment
 * (-v, long strings unabridged). Unlike a `ps` snapshot this misses nothing, however short
 * lived. Plain ptrace, no seccomp filter: after stop() nothing of the trace is left in
 * the traced processes.
 */
export async function traceExecs(pid: number, logFile: string): Promise<ExecTrace> {
  const strace = spawn('strace', ['-f', '-qq', '-v', '-s', '1048576', '-e', 'trace=execve', '-o', logFile, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  strace.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => strace.once('exit', () => resolve()));
  const stop = async (): Promise<string> => {
    if (strace.exitCode === null && strace.signalCode === null) {
      strace.kill('SIGTERM');
      await exited;
    }
    return readFileSync(logFile, 'utf8');
  };
  // Attaching is quick; the bound is for a busy machine.
  for (const deadline = Date.now() + 30_000; Date.now() < deadline && tracerPid(pid) !== strace.pid; ) {
    if (strace.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  if (tracerPid(pid) !== strace.pid) {
    await stop().catch(() => '');
    throw new Error(`strace could not attach to ${pid}: ${stderr.trim()}`);
  }
  return { stop };
}
