/**
 * Which EnnioApi a command talks to: the orchestrator over its socket (started on demand),
 * or the session manager in this process (--no-server, ENNIO_NO_SERVER=1,
 * server.autostart: false with none running). Both answer identically.
 */
import type { EnnioApi } from '../api/contract.js';
import type { HttpApi } from '../api/http-client.js';
import { silentSink, withProgressSink } from '../core/progress.js';
import { trace } from '../core/trace.js';
import type { GlobalOptions } from './context.js';
import { startDetached, stopServer } from './server-link.js';

export function noServerWanted(g: GlobalOptions): boolean {
  return g.noServer === true || process.env['ENNIO_NO_SERVER'] === '1';
}

/**
 * Start the SSH connections the previous in-process command of this config used
 * (src/host/ssh/warm-hint.ts), so the handshake and the first remote shell overlap with
 * loading the rest. A guess that never fails a command: a wrong one is closed unused.
 * ENNIO_SSH_PREWARM=0 turns it off.
 */
async function prewarmSsh(g: GlobalOptions): Promise<void> {
  if (process.env['ENNIO_SSH_PREWARM'] === '0') return;
  trace('in-process: prewarm hint');
  try {
    const [{ discoverConfig }, { readWarmTargets, noteWarming }, { ennioHome }, { preDial }] = await Promise.all([
      import('../config/discover.js'), import('../host/ssh/warm-hint.js'), import('../core/home.js'), import('../host/ssh/pre-dial.js'),
    ]);
    const targets = readWarmTargets(ennioHome(), discoverConfig({ cwd: process.cwd(), ...(g.config ? { explicit: g.config } : {}) }));
    trace(`in-process: hint read (${targets.length})`);
    if (targets.length === 0) return;
    // TCP first, so sshd starts on its side while ssh2 loads on ours.
    for (const t of targets) {
      const first = t.proxyJump[0] ?? t;
      preDial(first.host, first.port);
    }
    const { prewarmSshHosts } = await import('../host/ssh/registry.js');
    trace('in-process: ssh modules loaded');
    noteWarming();
    prewarmSshHosts(targets);
    trace(`in-process: prewarming ${targets.length} SSH connection(s)`);
  } catch {
    // no config here, no hint: the command itself says what is wrong
  }
}

async function inProcess(g: GlobalOptions): Promise<EnnioApi> {
  await prewarmSsh(g);
  trace('in-process: loading modules');
  const [{ createContext }, { InProcessApi }] = await Promise.all([import('./context.js'), import('../api/in-process.js')]);
  trace('in-process: modules loaded');
  const ctx = createContext(g);
  trace('in-process: context ready');
  return new InProcessApi(ctx, () => ctx.close());
}

/** Whether the config lets the CLI start an orchestrator (a broken config: no, so the in-process error shows). */
async function autostartAllowed(g: GlobalOptions): Promise<boolean> {
  const [{ discoverConfig }, { loadConfig }] = await Promise.all([import('../config/discover.js'), import('../config/load.js')]);
  try {
    const path = discoverConfig({ cwd: process.cwd(), ...(g.config ? { explicit: g.config } : {}) });
    return loadConfig(path).config.server.autostart;
  } catch {
    return false;
  }
}

async function httpApi(g: GlobalOptions): Promise<HttpApi> {
  return (await import('./caller-api.js')).callerHttpApi(g);
}

/**
 * After a failed request: replace an orchestrator of another build, or start one when
 * none answers and `mayStart` allows ('local': run in this process instead).
 */
async function recoverServer(err: unknown, g: GlobalOptions, mayStart: () => Promise<boolean>): Promise<'retry' | 'local'> {
  const { ServerBuildMismatch, ServerUnavailable } = await import('../api/http-client.js');
  if (err instanceof ServerBuildMismatch) {
    await stopServer();
    await startDetached(g.config);
    return 'retry';
  }
  if (err instanceof ServerUnavailable) {
    if (!(await mayStart())) return 'local';
    await startDetached(g.config);
    return 'retry';
  }
  throw err;
}

/** One request that only an orchestrator answers (the dashboard): started whatever server.autostart says. */
export async function withServer<T>(g: GlobalOptions, run: (http: HttpApi) => Promise<T>): Promise<T> {
  const http = await httpApi(g);
  try {
    return await run(http);
  } catch (err) {
    await recoverServer(err, g, () => Promise.resolve(true));
    return run(http);
  }
}

async function viaServer(g: GlobalOptions): Promise<EnnioApi> {
  const http = await httpApi(g);
  let fallback: EnnioApi | undefined;
  const recover = (err: unknown): Promise<'retry' | 'local'> => recoverServer(err, g, () => autostartAllowed(g));
  return new Proxy(http, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'call') return value;
      return async (...args: unknown[]) => {
        if (fallback) return (fallback as unknown as Record<string, (...a: unknown[]) => unknown>)[prop as string]!(...args);
        try {
          return await (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (err) {
          const next = await recover(err);
          if (next === 'local') {
            fallback = await inProcess(g);
            return (fallback as unknown as Record<string, (...a: unknown[]) => unknown>)[prop as string]!(...args);
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        }
      };
    },
  }) as EnnioApi;
}

/** Runs a command body with the right API and always releases it. */
export async function withApi(g: GlobalOptions, body: (api: EnnioApi) => Promise<void>): Promise<void> {
  const run = async (): Promise<void> => {
    const api = noServerWanted(g) ? await inProcess(g) : await viaServer(g);
    try {
      await body(api);
    } finally {
      await api.close();
    }
  };
  return g.json ? withProgressSink(silentSink, run) : run();
}
