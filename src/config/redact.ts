/**
 * A deep copy with every secret value (schema SECRET_KEYS) replaced by "***". Use it for
 * `ennio config show` and before anything config-shaped reaches a log.
 */
import { SECRET_KEYS } from './schema.js';

export const REDACTED = '***';

/** Variables whose names say they hold a secret; their values are hidden wherever they were expanded. */
const SECRET_NAME = /TOKEN|PASSWORD|PASSWD|PASSPHRASE|SECRET|API_?KEY|PRIVATE|CREDENTIAL/i;

/**
 * Same shape as the input; secret keys that are present (not undefined) become "***".
 * With `env`, the values of secret-named variables are also masked inside any string
 * (a token expanded into `repo: https://x:${GH_TOKEN}@host/…` must not print either).
 */
export function redact<T>(value: T, options: { env?: NodeJS.ProcessEnv } = {}): T {
  const hidden = Object.entries(options.env ?? {})
    .filter(([name, v]) => SECRET_NAME.test(name) && v !== undefined && v.length >= 4)
    .map(([, v]) => v as string)
    .sort((a, b) => b.length - a.length);
  return copy(value, hidden) as T;
}

function copy(value: unknown, hidden: readonly string[]): unknown {
  if (typeof value === 'string') return hidden.reduce((text, secret) => text.split(secret).join(REDACTED), value);
  if (Array.isArray(value)) return value.map((v) => copy(v, hidden));
  if (typeof value !== 'object' || value === null) return value;
  // Only plain mappings are walked; class instances (Date, Buffer…) never hold config secrets.
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.has(k) && v !== undefined && v !== null ? REDACTED : copy(v, hidden);
  }
  return out;
}
