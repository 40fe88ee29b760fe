/** What every benchmark shares: timing, a plain table, and "the common way" to reach a host. */
import { spawn } from 'node:child_process';
import type { ExecOptions, ExecResult, Host } from '../src/host/host.js';
import { shellJoin } from '../src/ops/shell-quote.js';
import type { TestSshd } from '../test/helpers/sshd.js';

export interface Stats {
  median: number;
  p90: number;
}

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { median: at(0.5), p90: at(0.9) };
}

/** Median and p90 of `n` runs of `op`, after `warmup` untimed runs. */
export async function measure(n: number, op: (i: number) => Promise<unknown>, warmup = 5): Promise<Stats> {
  for (let i = 0; i < warmup; i++) await op(i);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op(i);
    samples.push(performance.now() - t0);
  }
  return stats(samples);
}

export const ms = (n: number): string => `${n.toFixed(2)} ms`;

/**
 * The remote login shell. Every SSH session runs the account's shell, and bash started by
 * sshd reads ~/.bashrc even for `ssh host cmd`; this machine's root ~/.bashrc runs
 * `pyenv init` (~0.5 s). A ControlMaster pays that on EVERY command (each is a new
 * session), ennio once per pooled shell: measured as is, every comparison with OpenSSH
 * would flatter ennio. So the benchmarks' sshds set SHLVL=1, and bash skips ~/.bashrc as a
 * stock non-interactive one does; ENNIO_BENCH_LOGIN_RC=1 keeps it.
 */
export const keepLoginRc = process.env['ENNIO_BENCH_LOGIN_RC'] === '1';
/** Environment for every session of a benchmark's sshd (see keepLoginRc). */
export const benchSessionEnv: Record<string, string> = keepLoginRc ? {} : { SHLVL: '1' };
/** sshd_config lines for a benchmark's sshd (see keepLoginRc). */
export const benchSshdExtra: string[] = keepLoginRc ? [] : ['SetEnv SHLVL=1'];
export const loginRcNote = keepLoginRc
  ? "the remote account's ~/.bashrc runs for every SSH session (ENNIO_BENCH_LOGIN_RC=1)"
  : "the remote account's ~/.bashrc is skipped for every SSH session, ennio's and OpenSSH's alike (SHLVL=1; ENNIO_BENCH_LOGIN_RC=1 keeps it)";

/** Rows of cells, the first being the header, aligned in columns. */
export function printTable(rows: string[][]): void {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  rows.forEach((r, i) => {
    console.log(r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
}

/** The common way: one OpenSSH `ssh` invocation per command, multiplexed over a ControlMaster socket. */
export class ControlMasterHost implements Host {
  readonly label = 'ssh+ControlMaster';
  readonly isRemote = true;
  private readonly base: string[];

  constructor(sshd: TestSshd, knownHosts: string, controlPath: string) {
    this.base = [
      '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=accept-new',
      '-o', 'ControlMaster=auto', '-o', `ControlPath=${controlPath}`, '-o', 'ControlPersist=60',
      '-i', sshd.clientKey, '-p', String(sshd.port), '-l', 'root', '127.0.0.1',
    ];
  }

  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const cd = options.cwd ? `cd -- ${shellJoin([options.cwd])} && ` : '';
    const env = options.env ? `env ${shellJoin(Object.entries(options.env).map(([k, v]) => `${k}=${v}`))} ` : '';
    return new Promise((resolve) => {
      // Same locale fix SshHost applies (see shell-channel.ts START_UP), or tmux mangles tabs.
      const remote = `LC_CTYPE=C.UTF-8; export LC_CTYPE; ${cd}${env}${shellJoin(argv)}`;
      const child = spawn('ssh', [...this.base, '--', remote], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      child.on('close', (code) => resolve({ code: code ?? 255, stdout, stderr }));
      child.stdin.end(options.input ?? '');
    });
  }

  homeDir(): Promise<string> {
    return Promise.resolve('/root');
  }

  close(): Promise<void> {
    return new Promise((resolve) => spawn('ssh', [...this.base.slice(0, -1), '-O', 'exit', '127.0.0.1'], { stdio: 'ignore' }).on('close', () => resolve()));
  }
}
