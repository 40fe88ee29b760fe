/**
 * Secrets reach ennio through ${VAR}s in ennio.yaml. Once the config is loaded, those
 * variables must not travel on into agents, post_create commands or the tmux server's
 * global environment (which every later session inherits), so they are removed from
 * the CLI's own environment, by value and by the well-known names.
 */
import { SECRET_KEYS } from './schema.js';

const SECRET_NAMES = ['SSH_PASSWORD', 'SSH_PASSPHRASE', 'ENNIO_NODE_TOKEN', 'ENNIO_NODE_AUTH_TOKEN'];

/** `${NAME}`s written as the value of a secret key (password, passphrase, auth_token) in the config text. */
export function secretVariableNames(configText: string): string[] {
  const keys = [...SECRET_KEYS].join('|');
  // Block (`password: ${X}`) and flow (`{ password: "${X}", … }`) style alike; stop at the value's end.
  const pattern = new RegExp(`\\b(?:${keys})\\s*:\\s*[^\\n,}]*?\\$\\{([A-Za-z_][A-Za-z0-9_]*)`, 'g');
  return [...configText.matchAll(pattern)].map((m) => m[1]!);
}

/** Deletes from `env` the variables that feed the config's secrets and the well-known secret names. */
export function scrubSecrets(env: NodeJS.ProcessEnv, configText: string): string[] {
  const names = new Set([...SECRET_NAMES, ...secretVariableNames(configText)]);
  const removed = [...names].filter((name) => name in env);
  for (const name of removed) delete env[name];
  return removed;
}
