/**
 * `ennio status` at scale, `npx tsx bench/status-bench.ts [sessions] [hosts] [runs]`
 * (default 1000 sessions on 10 hosts, 15 runs): the orchestrator issue's targets, in one run.
 *
 * World: bench/many-sessions.ts (one loopback sshd and tmux server per host, a running
 * record per session). It starts the orchestrator (`ennio start --detach`) and prints:
 * - cold `ennio status --json` through the orchestrator, and with --no-server (median, p90);
 * - SSH connections per host: established TCP connections from the orchestrator's pid to
 *   each sshd (`ss`), and how often each was (re)established;
 * - remote commands per host per sweep: the orchestrator's per-connection command counts
 *   (`ennio server status --json`) over several sweeps, read right after a sweep ends;
 * - the orchestrator's RSS while watching (now and peak).
 * Everything it starts is stopped and removed at the end, also on failure.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { sshdSkipReason } from '../test/helpers/sshd.js';
import { ms, printTable, stats, type Stats } from './lib.js';
import { createManySessions, type ManySessions } from './many-sessions.js';

const SESSIONS = Number(process.argv[2] ?? 1000);
const HOSTS = Number(process.argv[3] ?? 10);
const RUNS = Number(process.argv[4] ?? 15);
/** Sweeps over which remote commands are counted. */
const COUNTED_SWEEPS = 5;
const CLI = resolve(import.meta.dirname, '../dist/cli.js');

interface HostRow {
  host: string;
  state: string;
  commands?: number;
  connects?: number;
}
interface ServerStatus {
  pid: number;
  sweeps: number;
  hosts: HostRow[];
  sessions_watched: number;
}

const phase = (what: string): void => void process.stderr.write(`status-bench: ${what}\n`);
const sleep = (millis: number): Promise<void> => new Promise((r) => setTimeout(r, millis));

function cli(world: ManySessions, args: string[], extraEnv: NodeJS.ProcessEnv = {}): string {
  const env: NodeJS.ProcessEnv = { ...process.env, ENNIO_HOME: world.home, NO_COLOR: '1', ...extraEnv };
  delete env['ENNIO_CONFIG'];
  if (extraEnv['ENNIO_NO_SERVER'] === undefined) delete env['ENNIO_NO_SERVER'];
  // The file itself, as a shell runs it (its shebang matters: see src/cli/caller-env.ts).
  const res = spawnSync(CLI, args, { cwd: world.work, env, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
  if (res.status !== 0) throw new Error(`ennio ${args.join(' ')} failed (${res.status}): ${res.stderr}`);
  return res.stdout;
}

/** Busy CPU of the whole machine so far (Linux /proc/stat), in ms; undefined elsewhere. */
function machineBusyMs(): number | undefined {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = ticks as number[];
    return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 10; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * One command's wall time, its own CPU (bash's `times` for its children) and the whole
 * machine's: on loopback every "host" shares this machine's cores with ennio.
 */
function cpuSplit(world: ManySessions, args: string[], extraEnv: NodeJS.ProcessEnv): { wallMs: number; ennioMs: number; machineMs: number; cores: number } | undefined {
  const env: NodeJS.ProcessEnv = { ...process.env, ENNIO_HOME: world.home, NO_COLOR: '1', ...extraEnv };
  const before = machineBusyMs();
  const t0 = performance.now();
  const res = spawnSync('bash', ['-c', '"$@" >/dev/null 2>&1; times', 'bash', CLI, ...args], { cwd: world.work, env, encoding: 'utf8' });
  const wallMs = performance.now() - t0;
  const after = machineBusyMs();
  // `times`: the shell's user/sys, then its children's, as 0m0.820s.
  const secs = [...(res.stdout.split('\n')[1] ?? '').matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (res.status !== 0 || secs.length !== 2 || before === undefined || after === undefined) return undefined;
  return { wallMs, ennioMs: (secs[0]! + secs[1]!) * 1000, machineMs: after - before, cores: cpus().length };
}

function timeRuns(n: number, run: () => void, warmup = 2): Stats {
  for (let i = 0; i < warmup; i++) run();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    run();
    samples.push(performance.now() - t0);
  }
  return stats(samples);
}

const serverStatus = (world: ManySessions): ServerStatus => JSON.parse(cli(world, ['server', 'status', '--json'])) as ServerStatus;

/** Polls until `check` holds (a generous cap: a loaded machine is slow, not broken). */
async function until<T>(what: string, check: () => T | undefined, limitMs = 120_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The status read right after the next sweep ends (commands and sweeps counted at one instant, between sweeps). */
async function afterNextSweep(world: ManySessions, after: number): Promise<ServerStatus> {
  return until(`sweep ${after + 1}`, () => {
    const s = serverStatus(world);
    return s.sweeps > after ? s : undefined;
  });
}

/** Established TCP connections from `pid` to each port. */
function connectionsByPort(pid: number, ports: number[]): Map<number, number> {
  const out = spawnSync('ss', ['-Htnp', 'state', 'established'], { encoding: 'utf8' }).stdout;
  const counts = new Map(ports.map((p) => [p, 0]));
  for (const line of out.split('\n')) {
    if (!line.includes(`pid=${pid},`)) continue;
    const peer = line.trim().split(/\s+/)[3] ?? '';
    const port = Number(peer.slice(peer.lastIndexOf(':') + 1));
    if (counts.has(port)) counts.set(port, (counts.get(port) ?? 0) + 1);
  }
  return counts;
}

/** CPU time (user + system) a process used so far, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  return (ticks * 1000) / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);
}

function rssMb(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { now: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met');

async function main(): Promise<void> {
  const skip = sshdSkipReason();
  if (skip) return console.log(`status bench skipped: ${skip}`);
  const world = await createManySessions(SESSIONS, HOSTS, phase);
  try {
    phase('starting the orchestrator; waiting until a sweep reached every session');
    cli(world, ['start', '--detach']);
    // The first sweep reads every screen once (src/activity: nothing is known yet), which
    // takes a while for 1,000 sessions; the sweeps after it are what is measured.
    await until('every session running and reachable', () => {
      const shown = JSON.parse(cli(world, ['status', '--json'])) as Array<{ status: string; unreachable?: string }>;
      return shown.length === world.sessions.length && shown.every((s) => s.status === 'running' && !s.unreachable) ? true : undefined;
    }, 300_000);
    const ready = serverStatus(world);
    if (ready.hosts.filter((h) => h.state === 'connected').length !== HOSTS) throw new Error(`not every host is connected: ${JSON.stringify(ready.hosts)}`);

    phase(`status --json through the orchestrator, ${RUNS} runs`);
    const viaServer = timeRuns(RUNS, () => void cli(world, ['status', '--json']));

    phase(`counting remote commands over ${COUNTED_SWEEPS} sweeps`);
    const start = await afterNextSweep(world, serverStatus(world).sweeps);
    const cpuBefore = cpuMs(start.pid);
    let end = start;
    while (end.sweeps < start.sweeps + COUNTED_SWEEPS) end = await afterNextSweep(world, end.sweeps);
    const cpuPerSweep = (cpuMs(start.pid) - cpuBefore) / (end.sweeps - start.sweeps);
    const sweeps = end.sweeps - start.sweeps;
    const perHost = end.hosts.map((h) => {
      const before = start.hosts.find((b) => b.host === h.host);
      return { host: h.host, perSweep: ((h.commands ?? 0) - (before?.commands ?? 0)) / sweeps, connects: h.connects ?? 0 };
    });
    const ports = world.sshds.map((s) => s.port);
    const conns = connectionsByPort(ready.pid, ports);
    const rss = rssMb(ready.pid);

    // In-process runs are measured without an orchestrator sweeping the same hosts beside them.
    cli(world, ['stop']);
    const noServerRuns = Math.min(RUNS, 7);
    phase(`status --json with --no-server, ${noServerRuns} runs`);
    const inProcess = timeRuns(noServerRuns, () => void cli(world, ['status', '--json'], { ENNIO_NO_SERVER: '1' }), 1);
    const split = cpuSplit(world, ['status', '--json'], { ENNIO_NO_SERVER: '1' });

    const onePerSweep = perHost.length === HOSTS && perHost.every((h) => h.perSweep === 1);
    const oneConnection = [...conns.values()].every((n) => n === 1) && perHost.every((h) => h.connects === 1);
    console.log(`\nennio status --json — ${world.sessions.length} remote tmux sessions on ${HOSTS} hosts (one loopback sshd each), cold CLI processes\n`);
    printTable([
      ['measure', 'value', 'target', 'verdict'],
      ['status --json through the orchestrator (median)', `${ms(viaServer.median)} (p90 ${ms(viaServer.p90)})`, '≤ 150 ms', verdict(viaServer.median <= 150)],
      ['status --json --no-server (median)', `${ms(inProcess.median)} (p90 ${ms(inProcess.p90)})`, '≤ 1000 ms', verdict(inProcess.median <= 1000)],
      ['SSH connections per host (TCP, orchestrator pid)', [...new Set(conns.values())].join('/'), '1', verdict(oneConnection)],
      [`remote commands per host per sweep (${sweeps} sweeps)`, [...new Set(perHost.map((h) => String(h.perSweep)))].join('/'), 'exactly 1', verdict(onePerSweep)],
      ['orchestrator RSS while watching (now / peak)', `${rss.now.toFixed(0)} MB / ${rss.peak.toFixed(0)} MB`, '≤ 150 MB', verdict(rss.peak <= 150)],
    ]);
    console.log(`\norchestrator CPU per sweep (its own process, not the hosts'): ${ms(cpuPerSweep)}`);
    if (split) {
      console.log(`one status --json --no-server: ${ms(split.wallMs)} wall; ennio's own CPU ${ms(split.ennioMs)}, the whole machine's ${ms(split.machineMs)}` +
        ` of the ${ms(split.wallMs * split.cores)} its ${split.cores} cores had (the ${HOSTS} loopback hosts' sshd, shells and tmux run on them too)`);
    }
    console.log('\nper host: connection (TCP connections, times connected), commands per sweep');
    for (const h of perHost) console.log(`  ${h.host}  tcp ${conns.get(Number(h.host.slice(h.host.lastIndexOf(':') + 1))) ?? '?'}  connects ${h.connects}  commands/sweep ${h.perSweep}`);
  } finally {
    try {
      cli(world, ['stop']);
    } catch (err) {
      console.error(`stopping the orchestrator failed: ${String(err)}`);
    }
    await world.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
