/**
 * `ennio node list | status <host|project> | connect <project> [--local-port N] |
 * disconnect <project> [--shutdown]`. Thin: the work is in src/services/node-manager.ts.
 */
import type { Command } from 'commander';
import type { EnnioConfig } from '../config/schema.js';
import { EnnioError } from '../core/errors.js';
import { closeAllRemote } from '../strategies/remote.js';
import type { NodeApi, NodeConnectJson } from '../api/contract.js';
import { NodeManager, type NodeStatus } from '../services/node-manager.js';
import { printJson, table } from './output.js';

export interface NodeCliDeps {
  /** Runs a command body with the API (the orchestrator's, or in-process), releasing it after. */
  withNodeApi: (body: (api: NodeApi) => Promise<void>) => Promise<void>;
  /** Loads ennio.yaml (throws EnnioError CONFIG_* as the other commands do). */
  loadConfig: () => EnnioConfig;
  /** Whether --json was given. */
  json: () => boolean;
  /** $ENNIO_HOME (default: the env variable, else ~/.ennio). */
  ennioHome?: () => string;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function statusTable(rows: NodeStatus[]): string {
  return table(
    ['PROJECT', 'NODE', 'STATE', 'VERSION', 'PID', 'UPTIME', 'RUNTIMES', 'RSS'],
    rows.map((s) =>
      s.reachable
        ? [s.project, s.target, s.state, s.heartbeat.version, s.heartbeat.pid, `${s.heartbeat.uptimeSecs}s`, s.heartbeat.runtimes, mib(s.heartbeat.rssBytes)]
        : [s.project, s.target, s.kind === 'not-running' ? `${s.state} (${s.reason})` : s.state, '-', '-', '-', '-', '-'],
    ),
  );
}

function parsePort(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535) throw new EnnioError('INVALID_ARGUMENT', `--local-port expects 0-65535, got ${JSON.stringify(raw)}`);
  return n;
}

export function registerNodeCommands(program: Command, deps: NodeCliDeps): Command {
  const manager = (): NodeManager => new NodeManager(deps.loadConfig(), ...(deps.ennioHome ? [deps.ennioHome()] : []));
  /** Every command releases SSH connections and tunnels, also on failure. */
  const run = async (body: (m: NodeManager) => Promise<void>): Promise<void> => {
    try {
      await body(manager());
    } finally {
      await closeAllRemote();
    }
  };

  const node = program.command('node').description('the ennio-node daemon of projects with ssh_config.strategy: node');

  node
    .command('list')
    .description("list the configured node projects and their daemon's state (asks each host briefly; never starts a daemon)")
    .action(() =>
      deps.withNodeApi(async (api) => {
        const rows = await api.nodes();
        if (deps.json()) return printJson(rows);
        if (rows.length === 0) {
          process.stdout.write('no node projects (set ssh_config.strategy: node)\n');
          return;
        }
        process.stdout.write(
          `${table(['PROJECT', 'HOST', 'PORT', 'STATE', 'IDLE TIMEOUT', 'WORKSPACES', 'BINARY', 'TOKEN'], rows.map((r) => [r.project, r.sshPort ? `${r.host}:${r.sshPort}` : r.host, r.port, r.state, `${r.idleTimeoutSecs}s`, r.workspaceRoot, r.binary, r.token]))}\n`,
        );
      }),
    );

  node
    .command('status')
    .description('check the daemon of a project or host (does not start it)')
    .argument('<target>', 'project name or ssh_config.host')
    .action((target: string) =>
      deps.withNodeApi(async (api) => {
        const rows = await api.nodeStatus(target);
        if (deps.json()) printJson(rows);
        else process.stdout.write(`${statusTable(rows)}\n`);
        if (rows.some((r) => !r.reachable || !r.heartbeat.healthy)) process.exitCode = 1;
      }),
    );

  node
    .command('connect')
    .description('deploy/upgrade and start the daemon if needed, then check its health')
    .argument('<project>', 'project name')
    .option('--local-port <port>', 'also expose the daemon on 127.0.0.1:<port> here (0 = any free port) until Ctrl-C')
    .action(async (project: string, opts: { localPort?: string }) => {
      const print = (res: NodeConnectJson, localPort: number | null): void => {
        if (deps.json()) return printJson({ ...res, localPort });
        const hb = res.heartbeat;
        process.stdout.write(`${res.deployed ? 'started' : 'connected to'} ennio-node ${hb.version} on ${res.target} (pid ${hb.pid}, workspaces in ${hb.workspaceRoot})\n`);
      };
      // Without a local port the orchestrator does it (and keeps the tunnel warm); a local
      // port is a listener in this process, held until Ctrl-C.
      if (opts.localPort === undefined) return deps.withNodeApi(async (api) => print(await api.nodeConnect(project), null));
      const localPort = parsePort(opts.localPort);
      return run(async (m) => {
        const { forward, ...res } = await m.connect(project, { localPort });
        print(res, forward?.port ?? null);
        if (!forward) return;
        if (!deps.json()) process.stdout.write(`forwarding 127.0.0.1:${forward.port} -> ennio-node; press Ctrl-C to stop\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await forward.close();
      });
    });

  node
    .command('disconnect')
    .description('close the tunnel to the daemon; with --shutdown stop the daemon, which otherwise exits after its idle timeout')
    .argument('<project>', 'project name')
    .option('--shutdown', 'ask the daemon to shut down gracefully (agents in tmux keep running)')
    .action((project: string, opts: { shutdown?: boolean }) =>
      deps.withNodeApi(async (api) => {
        const res = await api.nodeDisconnect(project, opts.shutdown === true);
        if (deps.json()) printJson(res);
        else if (opts.shutdown) process.stdout.write(res.stopped ? `ennio-node on ${res.target} stopped\n` : `no ennio-node was running on ${res.target}\n`);
        else {
          process.stdout.write(
            `tunnel to ${res.target} closed (the next command opens a new one).\n` +
              `The daemon keeps running and exits after ${res.idleTimeoutSecs}s without calls; to stop it now: ennio node disconnect ${res.project} --shutdown\n`,
          );
        }
      }),
    );

  return node;
}
