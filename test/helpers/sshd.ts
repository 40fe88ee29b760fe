/**
 * A real OpenSSH sshd on 127.0.0.1 for tests: throwaway host keys (ed25519 + rsa) and a
 * client key in a temp dir, an ephemeral port, foreground (-D -e) so its log is ours.
 * stop() kills it and removes the dir. Needs root (sshd must switch users); callers
 * skip with a printed reason otherwise (see `sshdSkipReason`).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestHostKey {
  type: string;
  /** The public key line `ssh-ed25519 AAAA…` (no comment). */
  publicLine: string;
  blob: Buffer;
  path: string;
}

export interface SshdOptions {
  maxSessions?: number;
  passwordAuth?: boolean;
  logLevel?: 'INFO' | 'VERBOSE' | 'DEBUG1';
  /** Extra sshd_config lines. */
  extra?: string[];
  /** Host key types to generate (default ed25519 and rsa). */
  hostKeyTypes?: Array<'ed25519' | 'rsa' | 'ecdsa'>;
}

export interface TestSshd {
  port: number;
  pid: number;
  dir: string;
  hostKeys: TestHostKey[];
  /** Unencrypted ed25519 client key authorized for root. */
  clientKey: string;
  /** known_hosts lines (`[127.0.0.1]:port type blob`) for every host key. */
  knownHostsLines: string[];
  /** Everything sshd logged so far. */
  log(): string;
  /** Authorize another public key file for every user. */
  authorize(publicKeyPath: string): void;
  /** SIGKILL the per-connection sshd children (simulates a dropped connection). */
  killConnections(): number;
  stop(): Promise<void>;
}

export function sshdSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to run sshd and create users';
  if (!existsSync('/usr/sbin/sshd')) return '/usr/sbin/sshd is not installed';
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function keygen(path: string, type: 'ed25519' | 'rsa' | 'ecdsa', extra: string[] = []): void {
  const bits = type === 'rsa' ? ['-b', '2048'] : [];
  execFileSync('ssh-keygen', ['-q', '-t', type, ...bits, '-N', '', '-C', '', '-f', path, ...extra], { stdio: 'ignore' });
}

export function readPublicKey(path: string): { type: string; publicLine: string; blob: Buffer } {
  const [type, b64] = readFileSync(path, 'utf8').trim().split(/\s+/);
  if (!type || !b64) throw new Error(`bad public key ${path}`);
  return { type, publicLine: `${type} ${b64}`, blob: Buffer.from(b64, 'base64') };
}

export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  const reason = sshdSkipReason();
  if (reason) throw new Error(`cannot start sshd: ${reason}`);
  mkdirSync('/run/sshd', { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'ennio-sshd-'));
  let child: ChildProcess | undefined;
  try {
    const hostKeys: TestHostKey[] = [];
    for (const type of options.hostKeyTypes ?? ['ed25519', 'rsa']) {
      const path = join(dir, `host_${type}`);
      keygen(path, type);
      hostKeys.push({ ...readPublicKey(`${path}.pub`), path });
    }
    const clientKey = join(dir, 'client_ed25519');
    keygen(clientKey, 'ed25519');
    const authorized = join(dir, 'authorized_keys');
    writeFileSync(authorized, readFileSync(`${clientKey}.pub`));

    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const cfg = [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        ...hostKeys.map((k) => `HostKey ${k.path}`),
        `AuthorizedKeysFile ${authorized}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'StrictModes no',
        'UsePAM no',
        'PermitRootLogin yes',
        `PasswordAuthentication ${options.passwordAuth ? 'yes' : 'no'}`,
        'KbdInteractiveAuthentication no',
        `MaxSessions ${options.maxSessions ?? 10}`,
        'MaxStartups 100',
        `LogLevel ${options.logLevel ?? 'VERBOSE'}`,
        'AllowTcpForwarding yes',
        'AllowStreamLocalForwarding yes',
        'AllowAgentForwarding yes',
        'Subsystem sftp internal-sftp',
        ...(options.extra ?? []),
      ];
      const cfgPath = join(dir, 'sshd_config');
      writeFileSync(cfgPath, `${cfg.join('\n')}\n`);
      // sshd logs to a file, never a pipe: a test blocked in spawnSync stops draining a
      // pipe, sshd then blocks writing a log line and every new connection wedges.
      const logPath = join(dir, `sshd-${attempt}.log`);
      const logFd = openSync(logPath, 'a');
      const proc = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', cfgPath], { stdio: ['ignore', 'ignore', logFd] });
      closeSync(logFd);
      child = proc;
      const readLog = (): string => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
      const up = await waitForBanner(port, proc);
      const log = readLog();
      if (!up) {
        proc.kill('SIGKILL');
        if (attempt < 3 && /Address already in use/.test(log)) continue;
        throw new Error(`sshd did not start: ${log}`);
      }
      const pid = proc.pid ?? 0;
      return {
        port,
        pid,
        dir,
        hostKeys,
        clientKey,
        knownHostsLines: hostKeys.map((k) => `[127.0.0.1]:${port} ${k.publicLine}`),
        log: readLog,
        authorize: (pub) => writeFileSync(authorized, readFileSync(pub), { flag: 'a' }),
        killConnections: () => killDescendants(pid),
        stop: async () => {
          killDescendants(pid);
          await stopProcess(proc);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
  } catch (err) {
    if (child) await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** How long a busy machine may take to start sshd (a bound, not an expectation). */
const SSHD_START_LIMIT_MS = 30_000;

/** Resolves true once the port answers with an SSH banner, false if sshd exited (or never answered). */
async function waitForBanner(port: number, proc: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + SSHD_START_LIMIT_MS;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) return false;
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      sock.once('data', (d: Buffer) => {
        sock.destroy();
        resolve(d.toString('latin1').startsWith('SSH-'));
      });
      sock.once('error', () => resolve(false));
      sock.once('close', () => resolve(false)); // closed before a banner (no-op after one)
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
    setTimeout(() => proc.kill('SIGKILL'), 2000).unref();
  });
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const ppid = /^PPid:\s+(\d+)/m.exec(status)?.[1];
      if (Number(ppid) === pid) out.push(Number(name));
    } catch {
      // the process exited while we looked; it is no one's child any more
    }
  }
  return out;
}

/**
 * SIGKILL the sshd processes under the listener (each connection's monitor and its
 * session child), leaving the listener itself and anything the sessions daemonized
 * (a tmux server is re-parented to init) alone. Returns how many were killed.
 */
function killDescendants(listener: number): number {
  let killed = 0;
  for (const monitor of childrenOf(listener)) {
    for (const sessionChild of childrenOf(monitor)) {
      if (commOf(sessionChild) === 'sshd') killed += tryKill(sessionChild);
    }
    killed += tryKill(monitor);
  }
  return killed;
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function tryKill(pid: number): number {
  try {
    process.kill(pid, 'SIGKILL');
    return 1;
  } catch {
    return 0;
  }
}
