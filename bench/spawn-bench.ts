/**
 * Remote spawn along the real path, `npx tsx bench/spawn-bench.ts [spawns]`: SessionManager.spawn
 * for a strategy-tmux project on a warm SSH connection (branch and agent checks, store
 * reservation, worktree, symlinks, post_create, tmux session, agent launch), and the same
 * as a cold `ennio spawn` process (Node start-up + SSH handshake included), for context.
 * Starts its own loopback sshd and tmux server; removes everything at the end.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { Backends } from '../src/services/backends.js';
import { SessionManager } from '../src/services/session-manager.js';
import { openStore } from '../src/store/db.js';
import { sshdSkipReason, startSshd, type TestSshd } from '../test/helpers/sshd.js';
import { benchSshdExtra, loginRcNote, measure, ms, printTable } from './lib.js';
import { killTmuxServer } from '../test/helpers/tmux-server.js';

const SPAWNS = Number(process.argv[2] ?? 15);
const CLI = resolve(import.meta.dirname, '../dist/cli.js');

async function main(): Promise<void> {
  const skip = sshdSkipReason();
  if (skip) return console.log(`spawn bench skipped: ${skip}`);
  const work = mkdtempSync(join(tmpdir(), 'ennio-spawn-bench-'));
  const socket = `ennio-spawn-bench-${process.pid}`;
  process.env['ENNIO_HOME'] = join(work, 'home');
  process.env['ENNIO_TMUX_SOCKET'] = socket;
  let sshd: TestSshd | undefined;
  const store = openStore(join(work, 'home'));
  let backends: Backends | undefined;
  try {
    sshd = await startSshd({ extra: benchSshdExtra });
    const repo = join(work, 'repo');
    mkdirSync(repo);
    const git = (...a: string[]): void => void execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@b', ...a], { cwd: repo });
    git('init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'README.md'), 'bench\n');
    git('add', '.');
    git('commit', '-qm', 'init');
    const configPath = join(work, 'ennio.yaml');
    writeFileSync(configPath, [
      'projects:',
      '  - name: bench',
      `    path: ${repo}`,
      '    agent: custom',
      "    agent_config: { command: 'echo agent ready; exec cat' }",
      '    symlinks: [{ source: README.md, target: LINKED.md }]',
      '    post_create: ["true"]',
      '    ssh_config:',
      `      host: 127.0.0.1`,
      `      port: ${sshd.port}`,
      '      username: root',
      `      auth: { type: key, path: ${sshd.clientKey} }`,
      `      known_hosts_path: ${join(work, 'known_hosts')}`,
      '      use_ssh_config: false',
      `      remote_dir: ${join(work, 'remote')}`,
      '',
    ].join('\n'));
    const { config } = loadConfig(configPath);
    backends = new Backends(config, join(work, 'home'));
    const manager = new SessionManager(config, dirname(configPath), store.sessions, store.events, backends);
    const ids: string[] = [];
    const warm = await measure(SPAWNS, async () => ids.push((await manager.spawn('bench')).id), 2);
    for (const id of ids) await manager.kill(id);

    const cold = await measure(5, async () => {
      const res = spawnSync(process.execPath, [CLI, '-c', configPath, 'spawn', 'bench'], { encoding: 'utf8', env: process.env });
      if (res.status !== 0) throw new Error(`ennio spawn failed: ${res.stderr}`);
      ids.push(res.stdout.trim());
    }, 1);

    console.log(`\nennio remote spawn — SessionManager.spawn, strategy tmux, loopback sshd, ${SPAWNS} spawns; ${loginRcNote}\n`);
    printTable([
      ['path', 'median', 'p90'],
      ['spawn on a warm connection (SessionManager)', ms(warm.median), ms(warm.p90)],
      ['cold `ennio spawn` process (node start + SSH handshake)', ms(cold.median), ms(cold.p90)],
    ]);
    console.log(`\ntarget: remote spawn ≤ 500 ms median on a warm connection: ${warm.median <= 500 ? 'met' : 'NOT met'}`);
  } finally {
    await backends?.close();
    store.close();
    killTmuxServer(socket);
    await sshd?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
