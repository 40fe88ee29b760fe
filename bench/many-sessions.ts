/**
 * A world of many remote tmux sessions for the status benchmarks (sweep-bench, status-bench):
 * one loopback OpenSSH sshd per "host" (its own port, so its own SSH connection), one tmux
 * server per host with sessions/hosts sessions running `sleep`, one project per host in
 * ennio.yaml, and a running session record per tmux session in $ENNIO_HOME's store —
 * created directly, since spawning 1,000 real sessions would take many minutes and
 * measure spawn, not status. stop() removes everything, also after a failure.
 * The sshds skip the remote account's ~/.bashrc (keepLoginRc in lib.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/db.js';
import { startSshd, type TestSshd } from '../test/helpers/sshd.js';
import { tmuxSocket } from '../test/helpers/ssh-env.js';
import { benchSshdExtra } from './lib.js';

/** Sessions created per tmux command (tmux runs `a ; b ; c` in one client). */
const CREATE_BATCH = 50;

export interface BenchSession {
  /** Index of its host (project `host<h>`). */
  host: number;
  /** The tmux server (-L) on that host. */
  socket: string;
  name: string;
}

export interface ManySessions {
  work: string;
  /** ENNIO_HOME: the store holds a running record per session. */
  home: string;
  configPath: string;
  sshds: TestSshd[];
  sessions: BenchSession[];
  stop(): Promise<void>;
}

/** `count` sessions running `sleep` on tmux server `socket`, created locally in a few commands. */
function createTmuxSessions(socket: string, prefix: string, count: number): string[] {
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

function configText(work: string, sshds: TestSshd[]): string {
  return ['projects:', ...sshds.flatMap((sshd, h) => [
    `  - name: host${h}`,
    `    path: ${join(work, 'repo')}`,
    '    agent: custom',
    "    agent_config: { command: 'cat' }",
    '    ssh_config:',
    '      host: 127.0.0.1',
    `      port: ${sshd.port}`,
    '      username: root',
    `      auth: { type: key, path: ${sshd.clientKey} }`,
    `      known_hosts_path: ${join(work, 'known_hosts')}`,
    '      host_key_policy: accept_new',
    '      use_ssh_config: false',
    `      remote_dir: ${join(work, 'remote')}`,
  ]), ''].join('\n');
}

export async function createManySessions(total: number, hostCount: number, phase: (what: string) => void): Promise<ManySessions> {
  const work = mkdtempSync(join(tmpdir(), 'ennio-many-'));
  const home = join(work, 'home');
  const sshds: TestSshd[] = [];
  const servers = Array.from({ length: hostCount }, () => tmuxSocket());
  const stop = async (): Promise<void> => {
    for (const s of servers) s.kill();
    for (const sshd of sshds) await sshd.stop();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    phase(`starting ${hostCount} sshd`);
    for (let h = 0; h < hostCount; h++) sshds.push(await startSshd({ logLevel: 'INFO', extra: benchSshdExtra }));
    mkdirSync(join(work, 'repo'));
    const configPath = join(work, 'ennio.yaml');
    writeFileSync(configPath, configText(work, sshds));

    phase(`creating ${total} tmux sessions and their records`);
    const perHost = Math.ceil(total / hostCount);
    const sessions: BenchSession[] = [];
    const store = openStore(home);
    try {
      for (let h = 0; h < hostCount; h++) {
        const socket = servers[h]!.socket;
        const label = `root@127.0.0.1:${sshds[h]!.port}`;
        const insert = store.db.transaction((names: string[]) => {
          for (const name of names) {
            store.sessions.insert({
              id: name, project: `host${h}`, status: 'running', agent: 'custom', runtime_name: 'tmux', backend: 'ssh:tmux', host: label,
              branch: `ennio/${name}`, workspace_path: join(work, 'ws', name), workspace_type: 'worktree', repo_path: join(work, 'repo'),
              runtime_handle: JSON.stringify({ id: name, runtimeName: 'tmux', data: { socket } }),
            });
          }
        });
        const names = createTmuxSessions(socket, `h${h}`, Math.max(0, Math.min(perHost, total - h * perHost)));
        insert(names);
        sessions.push(...names.map((name) => ({ host: h, socket, name })));
      }
    } finally {
      store.close();
    }
    return { work, home, configPath, sshds, sessions, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
