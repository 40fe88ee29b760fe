/**
 * Checks that need more than one key at a time, which a per-field zod schema cannot
 * express (or would express with messages that do not point at the right line).
 * Runs on the validated config; paths refer to the same YAML nodes as zod's.
 */
import type { EnnioConfig } from './schema.js';
import { SECRET_KEYS } from './schema.js';
import type { KeyPath } from './yaml-locate.js';
import { formatKeyPath } from './yaml-locate.js';

export interface Finding {
  path: KeyPath;
  text: string;
}

export interface SemanticResult {
  errors: Finding[];
  warnings: Finding[];
}

/** Paths of every secret key that has a value, in the plain data. */
/** Addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function secretPaths(value: unknown, path: KeyPath = []): KeyPath[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => secretPaths(v, [...path, i]));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) =>
    SECRET_KEYS.has(k) && v !== undefined ? [[...path, k]] : secretPaths(v, [...path, k]),
  );
}

/**
 * @param fromEnv formatted key paths whose value came from ${VAR}: a secret NOT in this
 * set was typed into the file, which is worth a warning (the file tends to get committed).
 */
export function checkSemantics(config: EnnioConfig, fromEnv: ReadonlySet<string>): SemanticResult {
  const errors: Finding[] = [];
  const warnings: Finding[] = [];
  const names = new Map<string, number>();
  const prefixes = new Map<string, number>();

  config.projects.forEach((p, i) => {
    const at = (...rest: PropertyKey[]): KeyPath => ['projects', i, ...rest];
    const seenName = names.get(p.name);
    if (seenName !== undefined) {
      errors.push({ path: at('name'), text: `duplicate project name "${p.name}" (also projects[${seenName}]); project names must be unique` });
    } else names.set(p.name, i);

    if (p.session_prefix !== undefined) {
      const seen = prefixes.get(p.session_prefix);
      if (seen !== undefined) {
        errors.push({ path: at('session_prefix'), text: `session_prefix "${p.session_prefix}" is also used by projects[${seen}]; session names would collide — choose another` });
      } else prefixes.set(p.session_prefix, i);
    }

    const agent = p.agent ?? config.defaults.agent;
    if (agent === 'custom' && !p.agent_config?.command) {
      errors.push({
        path: p.agent !== undefined ? at('agent') : ['defaults', 'agent'],
        text: `agent "custom" needs the command to run: add agent_config: { command: "…" } to project "${p.name}"`,
      });
    }

    const ssh = p.ssh_config;
    if (ssh?.strategy === 'node' && ssh.node_config?.enabled === false) {
      errors.push({ path: at('ssh_config', 'node_config', 'enabled'), text: 'strategy is "node" but node_config.enabled is false: enable the node or choose another strategy' });
    }
    if (ssh?.tmate !== undefined && ssh.strategy !== 'tmate') {
      warnings.push({ path: at('ssh_config', 'tmate'), text: `tmate settings are ignored because strategy is "${ssh.strategy}"` });
    }
  });

  const bind = config.server.host;
  if (!isLoopback(bind) && config.api_token === undefined) {
    errors.push({ path: ['server', 'host'], text: `the API would listen on ${bind}, reachable from other machines, without api_token: set api_token (e.g. "\${ENNIO_API_TOKEN}") or use 127.0.0.1` });
  }
  const SUGGESTED_VARIABLE: Record<string, string> = { auth_token: 'ENNIO_NODE_TOKEN', api_token: 'ENNIO_API_TOKEN' };
  for (const path of secretPaths(config)) {
    if (!fromEnv.has(formatKeyPath(path))) {
      const key = String(path[path.length - 1]);
      warnings.push({ path, text: `${key} is written in the file; prefer \${${SUGGESTED_VARIABLE[key] ?? `SSH_${key.toUpperCase()}`}} so the secret is not committed` });
    }
  }
  return { errors, warnings };
}
