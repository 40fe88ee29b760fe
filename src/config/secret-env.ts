/**
 * Secrets reach ennio through ${VAR}s in ennio.yaml. Once the config is loaded, those
 * variables must not travel on into agents, post_create commands or the tmux server's
 * global environment (which every later session inherits), so they are removed from
 * the CLI's own environment, by value and by the well-known names.
 */
import { SECRET_KEYS } from './schema.js';

const SECRET_NAMES = ['SSH_PASSWORD', 'SSH_PASSPHRASE', 'ENNIO_NODE_TOKEN', 'ENNIO_NODE_AUTH_TOKEN'];

export function secretValues(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) secretValues(v, found);
  else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (SECRET_KEYS.has(key) && typeof v === 'string' && v !== '') found.add(v);
      else secretValues(v, found);
    }
  }
  return found;
}

/** Deletes from `env` every variable holding one of the config's secrets (returns the names). */
export function scrubSecrets(env: NodeJS.ProcessEnv, config: unknown): string[] {
  const secrets = secretValues(config);
  const removed: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (SECRET_NAMES.includes(name) || (value !== undefined && secrets.has(value))) {
      delete env[name];
      removed.push(name);
    }
  }
  return removed;
}
