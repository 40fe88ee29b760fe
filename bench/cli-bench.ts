/**
 * What a user waits for: `npx tsx bench/cli-bench.ts [iterations]`.
 *
 * Every sample is a cold `ennio` process (node start + the command), as typed in a shell:
 * send / logs / status of a remote tmux session and of a node session through the
 * orchestrator, the same with --no-server, `ennio --version`, and beside them the same tmux
 * commands through OpenSSH with a warm ControlMaster (the common way), and for --no-server the same send
 * through ssh opening a new connection (what an in-process command is up against). Loopback sshd (root).
 * Everything it starts is stopped and removed at the end, also on failure.
 * The remote account's ~/.bashrc is skipped for both sides, and its cost printed (see
 * keepLoginRc in lib.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { benchSessionEnv, keepLoginRc, ms, printTable, stats, type Stats } from './lib.js';

process.env['ENNIO_TEST_SERVER'] = '1'; // the world's commands go through an orchestrator
const ITERATIONS = Number(process.argv[2] ?? 30);
// Not imported from test/helpers/cli.js: that reads ENNIO_TEST_SERVER when loaded (dynamically, below).
const CLI = resolve(import.meta.dirname, '../dist/cli.js');

function timeIt(n: number, op: (i: number) => void, warmup = 3): Stats {
  for (let i = 0; i < warmup; i++) op(i);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    op(i);
    samples.push(performance.now() - t0);
  }
  return stats(samples);
}

async function main(): Promise<void> {
  const { sshdSkipReason, freePort } = await import('../test/helpers/sshd.js');
  const reason = sshdSkipReason();
  if (reason) {
    console.log(`cli-bench: cannot run: ${reason}`);
    return;
  }
  const { createRemoteWorld } = await import('../test/helpers/remote-world.js');
  const { waitFor } = await import('../test/helpers/cli.js');
  const w = await createRemoteWorld({ remoteEnv: () => benchSessionEnv });
  const nodePort = await freePort();
  const controlPath = join(w.dir, 'cm.sock');
  const sshOptions = ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${w.knownHosts}`, '-o', 'StrictHostKeyChecking=accept-new'];
  const sshTarget = ['-i', w.sshd.clientKey, '-p', String(w.sshd.port), '-l', 'root', '127.0.0.1'];
  const sshBase = [...sshOptions, '-o', 'ControlMaster=auto', '-o', `ControlPath=${controlPath}`, '-o', 'ControlPersist=120', ...sshTarget];
  try {
    // The agent is a shell reading lines: the demo agent commits every message to git, and that
    // work (on the same 2 cores) would be measured as the send's, on both sides.
    const agent = ['    agent: custom', '    agent_config:', `      command: ${JSON.stringify("echo agent ready; while read -r line; do echo \"got $line\"; done")}`];
    w.writeConfig(['projects:', w.project('rtmux', 'tmux', '', agent), w.project('rnode', 'node', `      node_config: { port: ${nodePort}, idle_timeout: 600 }`, agent), ''].join('\n'));
    const spawnOf = (project: string): string => {
      const res = w.run(['spawn', project, '--json']);
      if (res.code !== 0) throw new Error(`spawn ${project} failed: ${res.stderr}`);
      return (JSON.parse(res.stdout) as { id: string }).id;
    };
    const tmuxId = spawnOf('rtmux');
    const nodeId = spawnOf('rnode');
    for (const id of [tmuxId, nodeId]) await waitFor(() => w.run(['logs', id]).stdout.includes('agent ready'), `${id} to be ready`, 60_000);

    // The file itself, as a shell runs it (its shebang matters: see src/cli/caller-env.ts).
    const ok = (args: string[], env: NodeJS.ProcessEnv = {}) => (): void => {
      const res = spawnSync(CLI, args, { cwd: w.dir, env: { ...w.env, ...env }, encoding: 'utf8', timeout: 120_000 });
      if (res.status !== 0) throw new Error(`ennio ${args.join(' ')} failed: ${res.stderr}`);
    };
    const ssh = (remote: string) => (): void => {
      const res = spawnSync('ssh', [...sshBase, '--', remote], { encoding: 'utf8' });
      if (res.status !== 0) throw new Error(`ssh ${remote} failed: ${res.stderr}`);
    };
    const tmux = `tmux -L ${w.socket}`;
    // Warm the master, then make sure later commands really ride on it.
    ssh('true')();
    const check = spawnSync('ssh', [...sshBase.slice(0, -1), '-O', 'check', '127.0.0.1'], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`the ControlMaster is not running: ${check.stderr}`);
    // What the remote account's ~/.bashrc costs each new SSH session (bash, not a login shell, reads it when sshd runs it).
    const sessionStats = timeIt(ITERATIONS, ssh('true'));
    const withRc = timeIt(Math.min(ITERATIONS, 10), ssh('env -u SHLVL bash -c true'));
    const results: Array<[string, Stats, Stats | undefined]> = [];
    const row = (name: string, s: Stats, cm?: Stats): void => {
      results.push([name, s, cm]);
    };
    // The same tmux work as ennio's send: type the text and Enter in one tmux invocation.
    const cmSend = timeIt(ITERATIONS, (i) => ssh(`${tmux} send-keys -t =${tmuxId}: -l 'bench ${i}' \\; send-keys -t =${tmuxId}: Enter`)());
    const cmLogs = timeIt(ITERATIONS, ssh(`${tmux} capture-pane -p -t =${tmuxId}: -S -100`));
    const cmStatus = timeIt(ITERATIONS, ssh(`${tmux} list-panes -a -F '#{session_name} #{pane_dead} #{pane_pid}'`));

    row('tmux send (orchestrator)', timeIt(ITERATIONS, (i) => ok(['send', tmuxId, `bench message ${i}`])()), cmSend);
    row('tmux logs (orchestrator)', timeIt(ITERATIONS, ok(['logs', tmuxId, '-n', '100'])), cmLogs);
    row('status --json (orchestrator)', timeIt(ITERATIONS, ok(['status', '--json'])), cmStatus);
    row('session info (orchestrator)', timeIt(ITERATIONS, ok(['session', 'info', tmuxId])), cmStatus);
    row('node send (orchestrator)', timeIt(ITERATIONS, (i) => ok(['send', nodeId, `bench message ${i}`])()), cmSend);
    row('node logs (orchestrator)', timeIt(ITERATIONS, ok(['logs', nodeId, '-n', '100'])), cmLogs);
    const noServer = { ENNIO_NO_SERVER: '1' };
    row('tmux send (--no-server)', timeIt(Math.min(ITERATIONS, 15), (i) => ok(['send', tmuxId, `bench message ${i}`], noServer)()), cmSend);
    // What --no-server is up against: OpenSSH itself opening a connection for the same command.
    const freshSsh = [...sshOptions, ...sshTarget];
    const sshNewConnection = timeIt(Math.min(ITERATIONS, 15), (i) => {
      const res = spawnSync('ssh', [...freshSsh, '--', `${tmux} send-keys -t =${tmuxId}: -l 'bench ${i}' \\; send-keys -t =${tmuxId}: Enter`], { encoding: 'utf8' });
      if (res.status !== 0) throw new Error(`ssh failed: ${res.stderr}`);
    });
    row('ennio --version', timeIt(ITERATIONS, ok(['--version'])));
    const bareEnv = { ...process.env };
    delete bareEnv['NODE_EXTRA_CA_CERTS'];
    row('node -e 0 (Node start-up alone)', timeIt(ITERATIONS, () => void spawnSync(process.execPath, ['-e', '0'], { env: bareEnv })));
    // What Node's start-up costs with this shell's NODE_EXTRA_CA_CERTS (the ennio entry skips it).
    if (process.env['NODE_EXTRA_CA_CERTS']) row('node -e 0 with NODE_EXTRA_CA_CERTS', timeIt(ITERATIONS, () => void spawnSync(process.execPath, ['-e', '0'])));

    const rss = Number(spawnSync('ps', ['-o', 'rss=', '-p', JSON.stringify(JSON.parse(w.run(['server', 'status', '--json']).stdout).pid)], { encoding: 'utf8' }).stdout.trim()) / 1024;
    console.log(`cold CLI commands, ${ITERATIONS} runs each, loopback sshd; "ControlMaster" = the same tmux command via ssh with a warm ControlMaster (checked with ssh -O check)`);
    console.log(`remote login shell: a new SSH session through the master costs ${ms(sessionStats.median)} (\`ssh host true\`); the account's ~/.bashrc adds ${ms(Math.max(0, withRc.median - sessionStats.median))} per session, ${keepLoginRc ? 'KEPT in this run (ENNIO_BENCH_LOGIN_RC=1)' : 'skipped in this run (SHLVL=1; ENNIO_BENCH_LOGIN_RC=1 keeps it)'}\n`);
    printTable([
      ['command', 'median', 'p90', 'ControlMaster median', 'ratio'],
      ...results.map(([name, s, cm]) => [name, ms(s.median), ms(s.p90), cm ? ms(cm.median) : '', cm ? `${(s.median / cm.median).toFixed(2)}x` : '']),
    ]);
    console.log(`\nthe same tmux send through ssh with a new connection (no ControlMaster), what --no-server compares with: median ${ms(sshNewConnection.median)}, p90 ${ms(sshNewConnection.p90)}`);
    console.log(`orchestrator RSS: ${rss.toFixed(0)} MB`);
    w.run(['node', 'disconnect', 'rnode', '--shutdown']);
  } finally {
    spawn('ssh', [...sshBase.slice(0, -1), '-O', 'exit', '127.0.0.1'], { stdio: 'ignore' });
    spawnSync('pkill', ['-f', `ennio-node.cjs --port ${nodePort} `]);
    await w.stop();
  }
}

await main();
