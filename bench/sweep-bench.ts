/**
 * Batched status sweeps, `npx tsx bench/sweep-bench.ts [sessions] [hosts] [sweeps]`
 * (default 1000 sessions on 10 hosts, 10 sweeps).
 *
 * Builds the world of bench/many-sessions.ts (one loopback sshd and tmux server per host,
 * a running record per session) and measures the in-process `status` path
 * (SessionManager.list: store, one sweep, applying results) on warm connections. It
 * counts the remote commands each sweep sends (SshHost.commandCount) and, for contrast,
 * times the pre-sweep way: one liveness command per session. Everything it starts is
 * stopped and removed at the end, also on failure.
 */
import { dirname } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { closeAllSshHosts, sshHostForConfig } from '../src/host/ssh/registry.js';
import type { SshHost } from '../src/host/ssh/ssh-host.js';
import { liveness } from '../src/ops/tmux.js';
import { Backends } from '../src/services/backends.js';
import { SessionManager } from '../src/services/session-manager.js';
import { openStore } from '../src/store/db.js';
import { sshdSkipReason } from '../test/helpers/sshd.js';
import { measure, ms, printTable } from './lib.js';
import { createManySessions } from './many-sessions.js';

const SESSIONS = Number(process.argv[2] ?? 1000);
const HOSTS = Number(process.argv[3] ?? 10);
const SWEEPS = Number(process.argv[4] ?? 10);

async function main(): Promise<void> {
  const skip = sshdSkipReason();
  if (skip) return console.log(`sweep bench skipped: ${skip}`);
  const phase = (what: string): void => void process.stderr.write(`sweep-bench: ${what}\n`);
  const world = await createManySessions(SESSIONS, HOSTS, phase);
  const store = openStore(world.home);
  try {
    const { config } = loadConfig(world.configPath);
    const manager = new SessionManager(config, dirname(world.configPath), store.sessions, store.events, new Backends(config, world.home));
    const hosts: SshHost[] = [];
    for (let h = 0; h < HOSTS; h++) hosts.push(await sshHostForConfig(config.projects[h]!.ssh_config!, { warn: () => undefined }));

    const commands = (): number => hosts.reduce((n, h) => n + h.commandCount, 0);
    phase('connecting (warm-up sweep)');
    // Warm-up sweep: connects to every host (not timed), and checks that all is running.
    const first = await manager.list();
    const notRunning = first.filter((s) => s.status !== 'running' || s.unreachable);
    if (notRunning.length > 0) throw new Error(`${notRunning.length} sessions are not running: ${JSON.stringify(notRunning[0])}`);

    phase(`${SWEEPS} sweeps`);
    const before = commands();
    const rssBefore = process.memoryUsage.rss();
    const swept = await measure(SWEEPS, () => manager.list(), 0);
    const perSweep = (commands() - before) / SWEEPS;

    // The pre-sweep way, for contrast: one `list-panes` per session (all in parallel, as list()
    // did), on the first host only: the same on every host would only take longer.
    phase('per-session liveness on one host, for contrast');
    const firstHost = world.sessions.filter((s) => s.host === 0);
    const oldBefore = commands();
    const perSession = await measure(2, () => Promise.all(firstHost.map((s) => liveness(hosts[0]!, { socket: s.socket }, s.name))), 0);
    const oldPerSweep = (commands() - oldBefore) / 2;

    console.log(`\nennio status sweep — ${world.sessions.length} remote tmux sessions on ${HOSTS} hosts (one sshd each), in-process SessionManager.list, warm connections\n`);
    printTable([
      ['path', 'sessions', 'hosts', 'remote commands per sweep', 'sweep median', 'sweep p90'],
      ['batched sweep (one command per host)', String(world.sessions.length), String(HOSTS), String(perSweep), ms(swept.median), ms(swept.p90)],
      ['per-session liveness (before), first host only', String(firstHost.length), '1', String(oldPerSweep), ms(perSession.median), ms(perSession.p90)],
    ]);
    console.log(`\nSSH connections: ${hosts.filter((h) => h.connected).length} for ${HOSTS} hosts; RSS ${(rssBefore / 1e6).toFixed(0)} MB`);
    console.log(`target: exactly one remote command per host per sweep: ${perSweep === HOSTS ? 'met' : 'NOT met'}`);
  } finally {
    await closeAllSshHosts();
    store.close();
    await world.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
