/**
 * ennio-node benchmark: `npx tsx bench/node-bench.ts [iterations]` (build first:
 * `node scripts/build.mjs`; needs root for the loopback sshd).
 *
 * Measures, against a loopback OpenSSH sshd:
 *  - cold: new SSH connection + deploy (upload, verify, start) + first Heartbeat;
 *  - warm, through the tunnel (HTTP/2 over one forwarded SSH channel): GetOutput,
 *    SendMessage, IsAlive medians — and the same operations via the tmux strategy
 *    (src/ops/tmux.ts through SshHost's pooled shell) and via `ssh` per command over a
 *    ControlMaster socket, with ratios;
 *  - the daemon's RSS (VmRSS from /proc/<pid>/status) after the run.
 * Everything it starts is stopped and removed at the end, also on failure.
 */
import { benchSshdExtra, ControlMasterHost, loginRcNote, measure, ms, printTable, type Stats } from './lib.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Host } from '../src/host/host.js';
import { SshHostRegistry } from '../src/host/ssh/registry.js';
import { RemoteNode } from '../src/node/client/remote-node.js';
import { TokenStore } from '../src/node/client/token-store.js';
import { capture, createSession, liveness, sendMessage, type TmuxServer } from '../src/ops/tmux.js';
import { freePort, sshdSkipReason, startSshd, type TestSshd } from '../test/helpers/sshd.js';
import { targetFor, tmuxSocket } from '../test/helpers/ssh-env.js';

const ITERATIONS = Number(process.argv[2] ?? 200);


type Ops = Record<'GetOutput' | 'SendMessage' | 'IsAlive', Stats>;

async function viaHost(host: Host, server: TmuxServer, name: string, n: number): Promise<Ops> {
  await createSession(host, server, { name, cwd: '/tmp', env: {}, command: ['cat'] });
  return {
    GetOutput: await measure(n, () => capture(host, server, name, 100)),
    SendMessage: await measure(n, (i) => sendMessage(host, server, name, `bench ${i}`)),
    IsAlive: await measure(n, () => liveness(host, server, name)),
  };
}

function vmRssMiB(pid: number): number {
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return kb / 1024;
}

async function main(): Promise<void> {
  const reason = sshdSkipReason();
  if (reason) {
    console.log(`node-bench: cannot run: ${reason}`);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'ennio-node-bench-'));
  const tmux = tmuxSocket();
  const registry = new SshHostRegistry();
  let sshd: TestSshd | undefined;
  let node: RemoteNode | undefined;
  let cm: ControlMasterHost | undefined;
  try {
    sshd = await startSshd({ logLevel: 'INFO', extra: benchSshdExtra });
    const kh = join(work, 'known_hosts');
    const server: TmuxServer = { socket: tmux.socket };

    mkdirSync(join(work, 'ws')); // the daemon starts runtimes only inside its workspace root
    // Cold: SSH connect + probe + upload + verify + start + first healthy Heartbeat.
    const t0 = performance.now();
    const host = registry.get(targetFor(sshd, kh), { warn: () => undefined });
    node = new RemoteNode({
      host,
      node: { port: await freePort(), idle_timeout: 600, workspace_root: join(work, 'ws') },
      tokens: new TokenStore(join(work, 'home')),
      remoteDir: join(work, 'remote'),
      tmuxSocket: tmux.socket,
    });
    const hb = await node.ensure();
    const coldMs = performance.now() - t0;

    const n = node;
    const h = await n.createRuntime({ sessionId: 'bench-node', name: 'bench-node', launchCommand: 'exec cat', env: {}, cwd: join(work, 'ws') });
    const viaNode: Ops = {
      GetOutput: await measure(ITERATIONS, () => n.getOutput(h, 100)),
      SendMessage: await measure(ITERATIONS, (i) => n.sendMessage(h, `bench ${i}`)),
      IsAlive: await measure(ITERATIONS, () => n.liveness(h)),
    };
    const heartbeat = await measure(ITERATIONS, () => n.heartbeat());
    const rss = vmRssMiB(hb.pid);

    const viaSshHost = await viaHost(host, server, 'bench-sshhost', ITERATIONS);
    cm = new ControlMasterHost(sshd, kh, join(work, 'cm-%C'));
    const viaCm = await viaHost(cm, server, 'bench-cm', Math.max(20, Math.floor(ITERATIONS / 4)));

    const rows: string[][] = [
      ['operation', 'node median', 'node p90', 'tmux/SshHost median', 'ratio', 'ssh+ControlMaster median', 'ratio'],
      ...(['GetOutput', 'SendMessage', 'IsAlive'] as const).map((op) => [
        op,
        ms(viaNode[op].median),
        ms(viaNode[op].p90),
        ms(viaSshHost[op].median),
        `${(viaSshHost[op].median / viaNode[op].median).toFixed(1)}x`,
        ms(viaCm[op].median),
        `${(viaCm[op].median / viaNode[op].median).toFixed(1)}x`,
      ]),
      ['Heartbeat', ms(heartbeat.median), ms(heartbeat.p90), '-', '-', '-', '-'],
    ];
    console.log(`\nennio-node bench — loopback OpenSSH sshd, ${ITERATIONS} iterations per warm operation (ratio = other / node); ${loginRcNote}\n`);
    printTable(rows);
    const warmOk = (['GetOutput', 'SendMessage', 'IsAlive'] as const).every((op) => viaNode[op].median <= 5);
    console.log(`\ncold connect + deploy + first Heartbeat: ${ms(coldMs)} (target ≤ 3000 ms: ${coldMs <= 3000 ? 'met' : 'NOT met'})`);
    console.log(`daemon RSS (VmRSS): ${rss.toFixed(1)} MiB (target ≤ 80 MB: ${rss <= 80 ? 'met' : 'NOT met'})`);
    console.log(`warm GetOutput/SendMessage/IsAlive medians ≤ 5 ms: ${warmOk ? 'met' : 'NOT met'}`);
  } finally {
    if (node) await node.stop(false).catch((err: unknown) => console.error(`stopping the daemon: ${String(err)}`));
    node?.close();
    await registry.closeAll();
    await cm?.close();
    tmux.kill();
    await sshd?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
