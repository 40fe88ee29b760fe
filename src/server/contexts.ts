/**
 * One context (config + SessionManager) per caller's config file and environment. The
 * orchestrator serves several configs at once; an edited config (mtime/size) or another
 * environment gets a fresh context, while SSH connections stay shared process-wide.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { discoverConfig } from '../config/discover.js';
import type { EnnioConfig } from '../config/schema.js';
import { contextWithStore, loadConfigFor, type Caller } from '../cli/context.js';
import type { Env } from '../core/request-env.js';
import type { Backends } from '../services/backends.js';
import type { SessionManager } from '../services/session-manager.js';
import type { Store } from '../store/db.js';
import type { TransitionListener } from '../activity/tracker.js';

export interface PooledContext {
  key: string;
  configPath: string;
  config: EnnioConfig;
  manager: SessionManager;
  backends: Backends;
  /** The caller's environment with the config's secrets removed: what requests run with. */
  env: Env;
  cwd: string;
}

const MAX_CONTEXTS = 64;

export class ContextPool {
  private readonly byKey = new Map<string, PooledContext>();
  /** The latest context of every config seen: what the lifecycle loop sweeps. */
  private readonly byConfig = new Map<string, PooledContext>();

  constructor(
    private readonly store: Store,
    private readonly home: string,
    /** Who hears the activity changes of a config's sessions (its notifications). */
    private readonly onActivity?: (configPath: string, config: EnnioConfig, env: Env) => TransitionListener,
  ) {}

  get(caller: Caller): PooledContext {
    const configPath = discoverConfig({ cwd: caller.cwd, ...(caller.config ? { explicit: caller.config } : {}), env: caller.env });
    let stamp = '';
    try {
      const st = statSync(configPath);
      stamp = `${st.mtimeMs}:${st.size}`;
    } catch {
      stamp = 'missing'; // loadConfigFor reports it with the usual message
    }
    const envHash = createHash('sha256').update(JSON.stringify(Object.entries(caller.env).sort())).digest('hex');
    const key = `${configPath}\0${stamp}\0${envHash}\0${caller.cwd}`;
    const hit = this.byKey.get(key);
    if (hit) {
      this.byKey.delete(key); // LRU order
      this.byKey.set(key, hit);
      this.byConfig.set(configPath, hit);
      return hit;
    }
    const env = { ...caller.env };
    const loaded = loadConfigFor({ ...caller, env });
    const ctx = contextWithStore(loaded, this.store, this.home, this.onActivity?.(loaded.path, loaded.config, env));
    const pooled: PooledContext = { key, configPath: loaded.path, config: loaded.config, manager: ctx.manager, backends: ctx.backends, env, cwd: caller.cwd };
    this.byKey.set(key, pooled);
    this.byConfig.set(loaded.path, pooled);
    while (this.byKey.size > MAX_CONTEXTS) {
      const oldest = this.byKey.keys().next().value as string;
      this.byKey.delete(oldest);
    }
    return pooled;
  }

  /** The newest context of each config, for sweeps. */
  configs(): PooledContext[] {
    return [...this.byConfig.values()];
  }
}
