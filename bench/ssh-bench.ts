/**
 * SSH speed benchmark: `npx tsx bench/ssh-bench.ts [iterations]`.
 *
 * Starts its own loopback OpenSSH sshd (needs root) and measures, on a warm connection,
 * the hot operations of a remote tmux session — send (sendMessage), logs (capture),
 * liveness — through SshHost, and the same src/ops/tmux.ts calls through "the common
 * way": one OpenSSH `ssh` invocation per command over a ControlMaster socket. Then a
 * remote spawn (git worktree + tmux session running an agent stand-in) through SshHost.
 * Everything it starts is stopped and removed at the end, also on failure.
 */
import { benchSshdExtra, ControlMasterHost, loginRcNote, measure, ms, printTable, type Stats } from './lib.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Host } from '../src/host/host.js';
import { SshHostRegistry } from '../src/host/ssh/registry.js';
import { createWorkspace } from '../src/ops/git-workspace.js';
import { capture, createSession, liveness, sendMessage, type TmuxServer } from '../src/ops/tmux.js';
import { sshdSkipReason, startSshd, type TestSshd } from '../test/helpers/sshd.js';
import { targetFor, tmuxSocket } from '../test/helpers/ssh-env.js';

const ITERATIONS = Number(process.argv[2] ?? 200);
const SPAWNS = 20;


async function hotPath(host: Host, server: TmuxServer, session: string, n: number): Promise<Record<string, Stats>> {
  await createSession(host, server, { name: session, cwd: '/tmp', env: {}, command: ['cat'] });
  const send = await measure(n, (i) => sendMessage(host, server, session, `benchmark message ${i}`));
  const logs = await measure(n, () => capture(host, server, session, 100));
  const live = await measure(n, async () => {
    if ((await liveness(host, server, session)) !== 'running') throw new Error('bench session is not running');
  });
  return { send, logs, liveness: live };
}

async function main(): Promise<void> {
  const reason = sshdSkipReason();
  if (reason) {
    console.log(`ssh-bench: cannot run: ${reason}`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'ennio-bench-'));
  const tmux = tmuxSocket();
  const registry = new SshHostRegistry();
  let sshd: TestSshd | undefined;
  let openssh: ControlMasterHost | undefined;
  try {
    sshd = await startSshd({ logLevel: 'INFO', extra: benchSshdExtra });
    const kh = join(work, 'known_hosts');
    const host = registry.get(targetFor(sshd, kh), { warn: () => undefined });
    const server = { socket: tmux.socket };
    const t0 = performance.now();
    await host.exec(['true']);
    const connectMs = performance.now() - t0;

    const viaSsh2 = await hotPath(host, server, 'bench-ssh2', ITERATIONS);
    openssh = new ControlMasterHost(sshd, kh, join(work, 'cm-%C'));
    const viaOpenSsh = await hotPath(openssh, server, 'bench-openssh', Math.max(20, Math.floor(ITERATIONS / 8)));

    // Remote spawn: worktree + tmux session with an agent stand-in, like `ennio spawn`.
    const repo = join(work, 'repo');
    execFileSync('sh', ['-c', `git init -q -b main "${repo}" && cd "${repo}" && git -c user.email=b@e -c user.name=b commit -q --allow-empty -m init`]);
    const spawnOnce = async (h: Host, tag: string, i: number): Promise<void> => {
      const ws = await createWorkspace(h, { type: 'worktree', repoPath: repo, workspacePath: join(work, 'ws', `${tag}-${i}`), branch: `bench/${tag}-${i}`, defaultBranch: 'main' });
      await createSession(h, server, { name: `spawn-${tag}-${i}`, cwd: ws.path, env: { ENNIO_SESSION: `${tag}-${i}` }, command: ['sh', '-c', 'echo agent ready; exec cat'] });
    };
    let k = 0;
    const spawnSsh2 = await measure(SPAWNS, () => spawnOnce(host, 'ssh2', k++));
    let j = 0;
    const spawnOpenSsh = await measure(Math.ceil(SPAWNS / 2), () => spawnOnce(openssh as Host, 'openssh', j++));

    const rows = [
      ['operation', 'SshHost median', 'SshHost p90', 'ssh+ControlMaster median', 'ssh+ControlMaster p90', 'speed-up'],
      ...(['send', 'logs', 'liveness'] as const).map((op) => {
        const a = viaSsh2[op] as Stats;
        const b = viaOpenSsh[op] as Stats;
        return [op, ms(a.median), ms(a.p90), ms(b.median), ms(b.p90), `${(b.median / a.median).toFixed(1)}x`];
      }),
      ['spawn', ms(spawnSsh2.median), ms(spawnSsh2.p90), ms(spawnOpenSsh.median), ms(spawnOpenSsh.p90), `${(spawnOpenSsh.median / spawnSsh2.median).toFixed(1)}x`],
    ];
    console.log(`\nennio SSH bench — loopback OpenSSH sshd, ${ITERATIONS} iterations per hot operation, ${SPAWNS} spawns`);
    console.log(`first connect + first channel: ${ms(connectMs)}; pooled channels open: ${host.channelCount}; ${loginRcNote}\n`);
    printTable(rows);
    const hotOk = (['send', 'logs', 'liveness'] as const).every((op) => (viaSsh2[op] as Stats).median <= 10);
    console.log(`\ntargets: hot operations ≤ 10 ms median: ${hotOk ? 'met' : 'NOT met'}; spawn ≤ 500 ms median: ${spawnSsh2.median <= 500 ? 'met' : 'NOT met'}`);
  } finally {
    await registry.closeAll();
    await openssh?.close();
    tmux.kill();
    await sshd?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
