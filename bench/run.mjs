// `npm run bench`: every benchmark, one after the other, each printing its own table.
// They start their own loopback sshd, tmux servers and daemons (root needed for sshd).
import { spawnSync } from 'node:child_process';

const benches = [
  ['Activity hook: cost per agent event (budget 20 ms median)', 'bench/hook-bench.ts'],
  ['Activity: from a hook firing to `ennio status` (local, orchestrator; budget 100 ms)', 'bench/activity-bench.ts'],
  ['SSH: warm SshHost vs OpenSSH ControlMaster (issue: remote execution)', 'bench/ssh-bench.ts'],
  ['Remote spawn along the real SessionManager path', 'bench/spawn-bench.ts'],
  ['ennio-node: gRPC through the SSH tunnel vs tmux strategy vs ControlMaster', 'bench/node-bench.ts'],
  ['Cold CLI commands through the orchestrator vs ssh ControlMaster (issue: orchestrator)', 'bench/cli-bench.ts'],
  ['Status sweeps: 1000 sessions on 10 hosts, one remote command per host (issue: orchestrator)', 'bench/sweep-bench.ts'],
  ['ennio status --json for 1000 sessions on 10 hosts: orchestrator vs --no-server, connections, commands per sweep, RSS', 'bench/status-bench.ts'],
  ['Dashboard in Chromium: keystroke → echo, 1,000-session overview', 'bench/dashboard-bench.ts'],
];
let failed = 0;
for (const [title, file] of benches) {
  console.log(`\n=== ${title} ===`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', file, ...process.argv.slice(2)], { stdio: 'inherit' });
  if (res.status !== 0) failed += 1;
}
process.exit(failed ? 1 : 0);
