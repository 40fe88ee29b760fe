/**
 * ennio-node entry point (bundled by scripts/build.mjs into dist/ennio-node.cjs and run
 * on remote hosts as `node ennio-node.cjs …`).
 *
 * Exit statuses: 0 after a Shutdown call, the idle timeout or SIGTERM/SIGINT; 2 for bad
 * flags or token; 1 when the port cannot be bound or on an unexpected crash.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { posix } from 'node:path';
import { VERSION } from '../../core/version.js';
import { LocalHost } from '../../host/local-host.js';
import { ControlModeHost } from './control-host.js';
import type { ServiceContext } from './context.js';
import { createLogger, type Logger } from './log.js';
import { parseOptions, USAGE, UsageError, type DaemonOptions } from './options.js';
import { NodeServer } from './server.js';
import { ennioNodeService } from './service.js';
import { readToken } from './token.js';

function fail(message: string, status: number): never {
  process.stderr.write(`ennio-node: ${message}\n`);
  process.exit(status);
}

/** sha256 of the running file, so the orchestrator can tell two builds of one version apart. */
function buildId(): string {
  const file = process.argv[1];
  if (file === undefined) return 'unknown';
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return 'unknown'; // run from source through a loader: there is no single file to hash
  }
}

function workspaceRoot(opts: DaemonOptions): string {
  const raw = opts.workspaceRoot ?? '~/.ennio/workspaces';
  const path = raw === '~' ? homedir() : raw.startsWith('~/') ? posix.join(homedir(), raw.slice(2)) : raw;
  if (!posix.isAbsolute(path)) throw new UsageError(`--workspace-root must be absolute (or start with ~/), got ${JSON.stringify(raw)}`);
  mkdirSync(path, { recursive: true, mode: 0o700 });
  // Realpath once: containment checks compare real paths against it.
  return realpathSync(path);
}

async function run(opts: DaemonOptions, log: Logger, token: string | undefined): Promise<never> {
  const ctx: Omit<ServiceContext, 'requestShutdown'> = {
    host: opts.tmuxControl ? new ControlModeHost(new LocalHost()) : new LocalHost(),
    tmux: opts.tmuxSocket === undefined ? {} : { socket: opts.tmuxSocket },
    workspaceRoot: workspaceRoot(opts),
    version: VERSION,
    buildId: buildId(),
    startedAt: Date.now(),
    idleTimeoutSecs: opts.idleTimeoutSecs,
    log,
  };
  const server = new NodeServer({
    port: opts.port,
    token,
    idleTimeoutSecs: opts.idleTimeoutSecs,
    log,
    service: (requestShutdown) => ennioNodeService({ ...ctx, requestShutdown }),
  });
  const port = await server.listen();
  log.info('listening', {
    host: '127.0.0.1',
    port,
    version: VERSION,
    workspace_root: ctx.workspaceRoot,
    idle_timeout_secs: opts.idleTimeoutSecs,
    tmux_socket: opts.tmuxSocket ?? 'default',
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info('signal received, shutting down', { signal });
    server.shutdown(true, 'signal');
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // The SSH session that started us may hang up; we are meant to outlive it.
  process.on('SIGHUP', () => log.info('SIGHUP ignored'));
  const reason = await server.stopped;
  // Detach tmux control clients and remove the control session; tmux and the agents' sessions keep running.
  await ctx.host.close().catch((err: unknown) => log.warn('could not remove the tmux control session', { error: err instanceof Error ? err.message : String(err) }));
  log.info('stopped', { reason });
  log.close();
  process.exit(0);
}

/**
 * `ps` shows /proc/<pid>/cmdline, which is the process's own argv memory: setting
 * process.title overwrites (and zero-fills) it, so a token given with --auth-token stops
 * being visible from here on. (It was visible from exec until now; hence the warning.)
 */
function hideTokenFromPs(argv: readonly string[]): void {
  const shown: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--auth-token') {
      shown.push(a, '[hidden]');
      i++;
    } else if (a.startsWith('--auth-token=')) shown.push('--auth-token=[hidden]');
    else shown.push(a);
  }
  process.title = ['ennio-node', ...shown].join(' ');
}

function main(argv: readonly string[]): void {
  let opts: DaemonOptions;
  let token: ReturnType<typeof readToken>;
  try {
    opts = parseOptions(argv);
    if (opts.authToken !== undefined) hideTokenFromPs(argv);
    if (opts.help) {
      process.stdout.write(USAGE);
      return;
    }
    if (opts.version) {
      process.stdout.write(`ennio-node ${VERSION}\n`);
      return;
    }
    token = readToken(opts);
  } catch (err) {
    if (err instanceof UsageError) fail(`${err.message}\nRun ennio-node --help for the options.`, 2);
    throw err;
  }
  // ENNIO_NODE_DEBUG=1: also the frequent calls (sweeps), with what they carried.
  const log = createLogger(opts.logFile, { debug: process.env['ENNIO_NODE_DEBUG'] === '1' });
  if (token.token === undefined) {
    log.warn('no auth token set: relying on the SSH tunnel for isolation (anyone on this host who can reach 127.0.0.1 may call)');
  } else {
    log.info('auth token required', { source: token.source });
    if (token.source === 'argv') {
      log.warn(
        '--auth-token was visible to other users in ps until the process title was overwritten; pass the token in ENNIO_NODE_AUTH_TOKEN or with --auth-token-file instead',
      );
    }
  }
  process.on('uncaughtException', (err) => {
    log.error('uncaught exception', { error: err.stack ?? err.message });
    process.exit(1);
  });
  run(opts, log, token.token).catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    log.error('failed to start', { error: message });
    if (opts.logFile !== undefined) process.stderr.write(`ennio-node: ${message}\n`);
    process.exit(err instanceof UsageError ? 2 : 1);
  });
}

main(process.argv.slice(2));
