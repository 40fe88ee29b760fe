/**
 * `ennio start`: the orchestrator. It serves the API on a 0600 Unix socket in $ENNIO_HOME
 * (the CLI) and on TCP `port` (the dashboard, other tools; bearer token), keeps SSH
 * connections and ennio-node tunnels warm between commands, sweeps every session each
 * sweep_interval, and exits after idle_exit with no running session and no client.
 */
import { randomBytes, createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { Caller } from '../cli/context.js';
import type { EnnioConfig } from '../config/schema.js';
import { EnnioError } from '../core/errors.js';
import { serverFiles, serverSocketPath } from '../core/home.js';
import { withEnv } from '../core/request-env.js';
import { BUILD, VERSION } from '../core/version.js';
import { defaultSshRegistry } from '../host/ssh/registry.js';
import { openStore } from '../store/db.js';
import { ContextPool } from './contexts.js';
import { createHandler, type HandlerDeps } from './http-handler.js';
import { acquireLock } from './instance-lock.js';
import { Lifecycle } from './lifecycle.js';
import { ActivityWatcher } from './activity-watcher.js';
import { Notifier } from '../notify/notifier.js';
import type { Logger } from './log.js';
import type { ServerFacts } from './routes.js';
import { LiveFeed } from './live-feed.js';
import { terminalSockets } from './terminal-ws.js';
import { BrowserAuth } from './web-auth.js';
import { WebFiles } from './web-static.js';

const DEFAULTS = { sweepMs: 2000, idleMs: 3 * 3_600_000 };

export interface ServerOptions {
  home: string;
  /** The caller that started it: TCP requests run with its config and environment. */
  caller: Caller;
  log: Logger;
}

export interface RunningServer {
  socket: string;
  port: number | string;
  stopped: Promise<void>;
  stop(): Promise<void>;
}

function listenUnix(server: Server, path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  rmSync(path, { force: true }); // left by an orchestrator that died; we hold the lock now
  // umask, not a chmod after listen: the socket is never reachable by others, not even briefly.
  const old = process.umask(0o177);
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  }).finally(() => process.umask(old));
}

function listenTcp(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

/** The host part of a URL that reaches a server listening on `host`. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return hostname();
  return host.includes(':') ? `[${host}]` : host;
}

/** The TCP bearer token: api_token from the config, else one generated once and kept 0600 in $ENNIO_HOME. */
function tcpToken(home: string, config: EnnioConfig | undefined): string {
  if (config?.api_token) return config.api_token;
  const file = `${home}/api-token`;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    const token = randomBytes(24).toString('base64url');
    writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return token;
  }
}

/** Each SSH connection with its state, and hosts or nodes the sweep leaves alone for a while (backoff). */
function hostSummary(lifecycle: Lifecycle): Array<{ host: string; state: string; detail?: string; commands?: number; connects?: number }> {
  const backoffs = new Map(lifecycle.backoffs().map((b) => [b.key, b]));
  const detail = (b: { failures: number; retryInMs: number; error: string }): string =>
    `unreachable (${b.failures} failed ${b.failures === 1 ? 'attempt' : 'attempts'}, next in ${Math.ceil(b.retryInMs / 1000)} s): ${b.error}`;
  const rows: Array<{ host: string; state: string; detail?: string; commands?: number; connects?: number }> = defaultSshRegistry.summary().map((h) => {
    const b = backoffs.get(`host:${h.host}`);
    backoffs.delete(`host:${h.host}`);
    return b ? { ...h, state: 'backoff', detail: detail(b) } : h;
  });
  for (const [key, b] of backoffs) rows.push({ host: key.replace(/^(host|node):/, ''), state: 'backoff', detail: detail(b) });
  return rows;
}

export async function runServer(opts: ServerOptions): Promise<RunningServer> {
  const { home, log } = opts;
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const files = serverFiles(home);
  const lock = acquireLock(files.lock);
  const socket = serverSocketPath(home);
  if (!lock.ok) {
    throw new EnnioError('SESSION_STATE', `an orchestrator already runs for ${home} (pid ${lock.holder.pid}, socket ${socket})`, {
      hint: 'stop it with `ennio stop`, or see it with `ennio server status`',
    });
  }
  const releaseLock = lock.release;
  const startedAt = Date.now();
  const store = openStore(home);
  // Notifications: one notifier per config, kept across edits of that config.
  const notifiers = new Map<string, Notifier>();
  const pool = new ContextPool(store, home, (configPath, config, env) => {
    let notifier = notifiers.get(configPath);
    if (notifier) notifier.update(config, env);
    else notifiers.set(configPath, (notifier = new Notifier(config, env, log)));
    return notifier.listener;
  });
  const watcher = new ActivityWatcher(home, pool, log);
  let defaultConfig: EnnioConfig | undefined;
  try {
    defaultConfig = withEnv(opts.caller.env, () => pool.get(opts.caller).config);
  } catch (err) {
    log.warn('no usable config where the orchestrator started; TCP stays off until one is given', { error: err instanceof Error ? err.message : String(err) });
  }
  const sweepMs = (): number => defaultConfig?.server.sweep_interval ?? DEFAULTS.sweepMs;
  const idleMs = defaultConfig?.server.idle_exit ?? DEFAULTS.idleMs;
  let lastClient = Date.now();
  const streams = { count: 0 };
  let port: number | string = 'off';
  let tcpHost = '127.0.0.1';
  let stopping: Promise<void> | undefined;
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));

  const lifecycle = new Lifecycle(pool, sweepMs, log, store.events, () => {
    if (Date.now() - lastClient > idleMs && streams.count === 0 && lifecycle.runningCount() === 0) {
      log.info('idle: no running session and no client', { idle_exit_ms: idleMs });
      void stop();
    }
  });
  const facts: ServerFacts = {
    health: () => ({ ok: true, version: VERSION, build: BUILD, pid: process.pid }),
    status: () => ({
      pid: process.pid, version: VERSION, build: BUILD, started_at: new Date(startedAt).toISOString(),
      uptime_s: Math.round((Date.now() - startedAt) / 1000), socket, port,
      configs: pool.configs().map((c) => c.configPath), hosts: hostSummary(lifecycle),
      sessions_watched: lifecycle.watchedCount(),
      sweeps: lifecycle.sweeps,
      last_sweep: lifecycle.lastSweep ? new Date(lifecycle.lastSweep.at).toISOString() : null,
      last_sweep_ms: lifecycle.lastSweep?.ms ?? null, sweep_interval_ms: sweepMs(), idle_exit_ms: idleMs,
    }),
    stop: () => void stop(),
    dashboardLogin: async (caller, config) => {
      const listening = await ensureTcp(config);
      const { token, expiresAt } = browser.mintLogin(caller);
      return { url: `http://${urlHost(tcpHost)}:${listening}/login#token=${token}`, expires_at: expiresAt.toISOString() };
    },
  };
  const browser = new BrowserAuth();
  const token = tcpToken(home, defaultConfig);
  const deps: HandlerDeps = {
    pool, lifecycle, events: store.events, log, build: BUILD, server: facts,
    defaultCaller: () => opts.caller,
    tokenDigest: () => createHash('sha256').update(token).digest(),
    inflight: new Map(), streams,
    touch: () => (lastClient = Date.now()),
    browser, web: new WebFiles(), feed: new LiveFeed(lifecycle, store.sessions, log),
  };
  const unixServer = createServer({ maxHeaderSize: 1024 * 1024 }, createHandler(deps, 'unix'));
  const tcpServer = createServer(createHandler(deps, 'tcp'));
  const terminals = terminalSockets(deps);
  unixServer.on('upgrade', terminals.upgrade('unix'));
  tcpServer.on('upgrade', terminals.upgrade('tcp'));
  const writeState = (): void =>
    writeFileSync(files.state, `${JSON.stringify({ pid: process.pid, version: VERSION, build: BUILD, socket, port, started_at: new Date(startedAt).toISOString() })}\n`, { mode: 0o600 });

  /**
   * The dashboard needs the TCP port. An orchestrator started where no config was found
   * has none yet: the first `ennio dashboard` opens it with that caller's config.
   */
  let opening: Promise<number> | undefined;
  function ensureTcp(config: EnnioConfig): Promise<number> {
    if (typeof port === 'number') return Promise.resolve(port);
    opening ??= listenTcp(tcpServer, config.server.host, config.port)
      .then((p) => {
        port = p;
        tcpHost = config.server.host;
        writeState();
        log.info('TCP port opened for the dashboard', { host: tcpHost, port: p });
        return p;
      })
      .catch((err: unknown) => {
        opening = undefined;
        const code = (err as NodeJS.ErrnoException).code ?? String(err);
        throw new EnnioError('SERVER_UNAVAILABLE', `the dashboard cannot listen on ${config.server.host}:${config.port} (${code})`, {
          hint: 'set another `port` in ennio.yaml (0 picks a free one), then `ennio stop` and run `ennio dashboard` again',
        });
      });
    return opening;
  }
  try {
    await listenUnix(unixServer, socket);
  } catch (err) {
    releaseLock();
    store.close();
    throw err;
  }
  chmodSync(socket, 0o600);
  if (defaultConfig) {
    try {
      port = await listenTcp(tcpServer, defaultConfig.server.host, defaultConfig.port);
      tcpHost = defaultConfig.server.host;
    } catch (err) {
      port = `unavailable (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
      log.warn('TCP port unavailable; the API stays on the Unix socket', { port: defaultConfig.port, error: (err as Error).message });
    }
  }
  writeState();
  lifecycle.start();
  watcher.start();
  log.info('orchestrator started', { pid: process.pid, version: VERSION, build: BUILD, socket, port, sweep_interval_ms: sweepMs() });

  async function stop(): Promise<void> {
    stopping ??= (async () => {
      log.info('stopping');
      lifecycle.stop();
      watcher.stop();
      for (const c of deps.inflight.values()) c.abort();
      terminals.closeAll();
      unixServer.closeAllConnections();
      tcpServer.closeAllConnections();
      await Promise.all([new Promise((r) => unixServer.close(r)), new Promise((r) => tcpServer.close(r))]);
      const { closeAllRemote } = await import('../strategies/remote.js');
      await closeAllRemote().catch((err: unknown) => log.warn('closing remote connections failed', { error: String(err) }));
      await Promise.all([...notifiers.values()].map((n) => n.close()));
      rmSync(files.state, { force: true });
      rmSync(socket, { force: true });
      releaseLock();
      store.close();
      log.info('stopped');
      resolveStopped();
    })();
    return stopping;
  }
  return { socket, port, stopped, stop };
}
