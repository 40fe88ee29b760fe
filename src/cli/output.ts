/** Output helpers: --json as plain machine output, ages; the table style is table.ts. */
import { jsonText } from '../api/wire.js';

export { table } from './table.js';

export interface OutputMode {
  json: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(jsonText(value));
}

/** "3m" style time since `iso`. */
export function elapsed(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86400) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

/** "3m ago" style ages for tables. */
export function age(iso: string, now = Date.now()): string {
  return `${elapsed(iso, now)} ago`;
}
