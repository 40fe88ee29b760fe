/** Builds what commands need (config, store, session manager) once per process. */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EnnioConfig } from '../config/schema.js';
import { findConfig } from '../config/discover.js';
import { loadConfig } from '../config/load.js';
import { scrubSecrets } from '../config/secret-env.js';
import { ennioHome, openStore, type Store } from '../store/db.js';
import { Backends } from '../services/backends.js';
import { SessionManager } from '../services/session-manager.js';

export interface GlobalOptions {
  config?: string;
  json: boolean;
}

export interface Context {
  config: EnnioConfig;
  configPath: string;
  manager: SessionManager;
  backends: Backends;
  store: Store;
  close(): Promise<void>;
}

export function loadConfigFrom(options: GlobalOptions): { config: EnnioConfig; path: string } {
  const path = findConfig(process.cwd(), options.config);
  const { config } = loadConfig(path);
  // Everything this process starts inherits its environment: secrets stop here.
  scrubSecrets(process.env, readFileSync(path, 'utf8'));
  return { config, path };
}

export function createContext(options: GlobalOptions): Context {
  const { config, path } = loadConfigFrom(options);
  const home = ennioHome();
  const store = openStore(home);
  const backends = new Backends(config, home);
  const manager = new SessionManager(config, dirname(path), store.sessions, store.events, backends);
  return {
    config,
    configPath: path,
    manager,
    backends,
    store,
    async close() {
      await backends.close();
      store.close();
    },
  };
}
