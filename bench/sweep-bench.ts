/**
 * Batched status sweeps, `npx tsx bench/sweep-bench.ts [sessions] [hosts] [sweeps]`
 * (default 1000 sessions on 10 hosts, 10 sweeps).
 *
 * Starts one loopback OpenSSH sshd per "host" (its own port, so its own SSH connection)
 * and one tmux server per host with sessions/hosts sessions in it, records them as running
 * sessions of one project per host, and measures the in-process `status` path
 * (SessionManager.list: store, one sweep, applying results) on warm connections. It
 * counts the remote commands each sweep sends (SshHost.commandCount) and, for contrast,
 * times the pre-sweep way: one liveness command per session. Everything it starts is
 * stopped and removed at the end, also on failure.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { closeAllSshHosts, sshHostForConfig } from '../src/host/ssh/registry.js';
import type { SshHost } from '../src/host/ssh/ssh-host.js';
import { liveness } from '../src/ops/tmux.js';
import { Backends } from '../src/services/backends.js';
import { SessionManager } from '../src/services/session-manager.js';
import { openStore } from '../src/store/db.js';
import { sshdSkipReason, startSshd, type TestSshd } from '../test/helpers/sshd.js';
import { tmuxSocket } from '../test/helpers/ssh-env.js';
import { measure, ms, printTable } from './lib.js';

const SESSIONS = Number(process.argv[2] ?? 1000);
const HOSTS = Number(process.argv[3] ?? 10);
const SWEEPS = Number(process.argv[4] ?? 10);
/** Sessions created per tmux command (tmux runs `a ; b ; c` in one client). */
const CREATE_BATCH = 50;

/** `count` sessions running `sleep` on tmux server `socket`, created locally in a few commands. */
function createSessions(socket: string, prefix: string, count: number): string[] {
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (let from = 0; from < names.length; from += CREATE_BATCH) {
    const argv = ['-L', socket];
    names.slice(from, from + CREATE_BATCH).forEach((name, i) => {
      if (i > 0) argv.push(';');
      argv.push('new-session', '-d', '-s', name, 'sleep', '100000');
    });
    execFileSync('tmux', argv, { stdio: 'ignore' });
  }
  return names;
}

async function main(): Promise<void> {
  const skip = sshdSkipReason();
  if (skip) return console.log(`sweep bench skipped: ${skip}`);
  const work = mkdtempSync(join(tmpdir(), 'ennio-sweep-bench-'));
  const sshds: TestSshd[] = [];
  const servers = Array.from({ length: HOSTS }, () => tmuxSocket());
  const store = openStore(join(work, 'home'));
  try {
    const phase = (what: string): void => void process.stderr.write(`sweep-bench: ${what}\n`);
    phase(`starting ${HOSTS} sshd`);
    for (let h = 0; h < HOSTS; h++) sshds.push(await startSshd({ logLevel: 'INFO' }));
    const repo = join(work, 'repo');
    mkdirSync(repo);
    const configPath = join(work, 'ennio.yaml');
    writeFileSync(configPath, ['projects:', ...sshds.flatMap((sshd, h) => [
      `  - name: host${h}`,
      `    path: ${repo}`,
      '    agent: custom',
      "    agent_config: { command: 'cat' }",
      '    ssh_config:',
      '      host: 127.0.0.1',
      `      port: ${sshd.port}`,
      '      username: root',
      `      auth: { type: key, path: ${sshd.clientKey} }`,
      `      known_hosts_path: ${join(work, 'known_hosts')}`,
      '      use_ssh_config: false',
      `      remote_dir: ${join(work, 'remote')}`,
    ]), ''].join('\n'));
    const { config } = loadConfig(configPath);
    const manager = new SessionManager(config, dirname(configPath), store.sessions, store.events, new Backends(config, join(work, 'home')));

    phase(`creating ${SESSIONS} tmux sessions`);
    const perHost = Math.ceil(SESSIONS / HOSTS);
    const hosts: SshHost[] = [];
    const handles: Array<{ host: SshHost; socket: string; name: string }> = [];
    for (let h = 0; h < HOSTS; h++) {
      const socket = servers[h]!.socket;
      const host = await sshHostForConfig(config.projects[h]!.ssh_config!, { warn: () => undefined });
      hosts.push(host);
      const names = createSessions(socket, `h${h}`, Math.min(perHost, SESSIONS - h * perHost));
      for (const name of names) {
        handles.push({ host, socket, name });
        store.sessions.insert({
          id: name, project: `host${h}`, status: 'running', agent: 'custom', runtime_name: 'tmux', backend: 'ssh:tmux', host: host.label,
          branch: `ennio/${name}`, workspace_path: join(work, 'ws', name), workspace_type: 'worktree', repo_path: repo,
          runtime_handle: JSON.stringify({ id: name, runtimeName: 'tmux', data: { socket } }),
        });
      }
    }

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
    const firstHost = handles.filter((s) => s.host === hosts[0]);
    const oldBefore = commands();
    const perSession = await measure(2, () => Promise.all(firstHost.map((s) => liveness(s.host, { socket: s.socket }, s.name))), 0);
    const oldPerSweep = (commands() - oldBefore) / 2;

    console.log(`\nennio status sweep — ${handles.length} remote tmux sessions on ${HOSTS} hosts (one sshd each), in-process SessionManager.list, warm connections\n`);
    printTable([
      ['path', 'sessions', 'hosts', 'remote commands per sweep', 'sweep median', 'sweep p90'],
      ['batched sweep (one command per host)', String(handles.length), String(HOSTS), String(perSweep), ms(swept.median), ms(swept.p90)],
      ['per-session liveness (before), first host only', String(firstHost.length), '1', String(oldPerSweep), ms(perSession.median), ms(perSession.p90)],
    ]);
    console.log(`\nSSH connections: ${hosts.filter((h) => h.connected).length} for ${HOSTS} hosts; RSS ${(rssBefore / 1e6).toFixed(0)} MB`);
    console.log(`target: exactly one remote command per host per sweep: ${perSweep === HOSTS ? 'met' : 'NOT met'}`);
  } finally {
    await closeAllSshHosts();
    store.close();
    for (const s of servers) s.kill();
    for (const sshd of sshds) await sshd.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
