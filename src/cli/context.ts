/** Builds what commands need (config, store, session manager) for one caller: a CLI process or one orchestrator request. */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative } from 'node:path';
import type { EnnioConfig } from '../config/schema.js';
import { discoverConfig } from '../config/discover.js';
import { loadConfig } from '../config/load.js';
import { scrubSecrets } from '../config/secret-env.js';
import type { Env } from '../core/request-env.js';
import { ennioHome, openStore, type Store } from '../store/db.js';
import { Backends } from '../services/backends.js';
import { SessionManager } from '../services/session-manager.js';
import type { TransitionListener } from '../activity/tracker.js';
import { trace } from '../core/trace.js';
import { writeWarmTargets } from '../host/ssh/warm-hint.js';

export interface GlobalOptions {
  config?: string;
  json: boolean;
  /** Run in this process instead of through the orchestrator. */
  noServer?: boolean;
}

/** Who is asking: the working directory and environment of the shell that ran the command. */
export interface Caller {
  cwd: string;
  /** Secrets that feed the config are removed from it by loadConfigFor. */
  env: Env;
  config?: string;
}

export interface Context {
  config: EnnioConfig;
  configPath: string;
  manager: SessionManager;
  backends: Backends;
  store: Store;
  close(): Promise<void>;
}

export function processCaller(options: GlobalOptions): Caller {
  return { cwd: process.cwd(), env: process.env, ...(options.config ? { config: options.config } : {}) };
}

function displayName(abs: string, cwd: string): string {
  const rel = relative(cwd, abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

/** Find, read and validate the caller's config, then remove the secrets it uses from the caller's env. */
export function loadConfigFor(caller: Caller): { config: EnnioConfig; path: string } {
  const path = discoverConfig({ cwd: caller.cwd, ...(caller.config ? { explicit: caller.config } : {}), env: caller.env });
  const { config } = loadConfig(path, { env: caller.env, displayName: displayName(path, caller.cwd) });
  // Everything started on the caller's behalf inherits this environment: secrets stop here.
  scrubSecrets(caller.env as NodeJS.ProcessEnv, readFileSync(path, 'utf8'));
  return { config, path };
}

export function loadConfigFrom(options: GlobalOptions): { config: EnnioConfig; path: string } {
  return loadConfigFor(processCaller(options));
}

/** A context over a store the caller owns (the orchestrator shares one store between contexts). */
export function contextWithStore(
  loaded: { config: EnnioConfig; path: string },
  store: Store,
  home: string,
  onActivity?: TransitionListener,
): Omit<Context, 'close'> & { closeBackends(): Promise<void> } {
  const { config, path } = loaded;
  const backends = new Backends(config, home);
  const manager = new SessionManager(config, dirname(path), store.sessions, store.events, backends, onActivity);
  return { config, configPath: path, manager, backends, store, closeBackends: () => backends.close() };
}

export function createContext(options: GlobalOptions): Context {
  const caller = processCaller(options);
  const loaded = loadConfigFor(caller);
  trace('config loaded');
  const home = ennioHome(caller.env);
  const store = openStore(home);
  trace('store open');
  try {
    const ctx = contextWithStore(loaded, store, home);
    return {
      ...ctx,
      async close() {
        trace('closing');
        // What this command connected to: the next one of this config starts there early.
        writeWarmTargets(home, loaded.path, await ctx.backends.usedSshTargets());
        await ctx.closeBackends();
        store.close();
        trace('closed');
      },
    };
  } catch (err) {
    store.close();
    throw err;
  }
}
