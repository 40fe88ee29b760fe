/**
 * A deep copy with every secret value (schema SECRET_KEYS) replaced by "***". Use it for
 * `ennio config show` and before anything config-shaped reaches a log.
 */
import { SECRET_KEYS } from './schema.js';

export const REDACTED = '***';

/** Same shape as the input; secret keys that are present (not undefined) become "***". */
export function redact<T>(value: T): T {
  return copy(value) as T;
}

function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy);
  if (typeof value !== 'object' || value === null) return value;
  // Only plain mappings are walked; class instances (Date, Buffer…) never hold config secrets.
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.has(k) && v !== undefined && v !== null ? REDACTED : copy(v);
  }
  return out;
}
