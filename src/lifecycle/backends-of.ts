/**
 * The backend of each of many records, asked once per project and runtime: a sweep plans
 * 1,000 sessions, and one promise per session (twice, for status and activity) was a good
 * part of each sweep's garbage.
 */
import type { SessionRecord } from '../store/sessions.js';
import type { Backend } from '../strategies/types.js';

/** Each record's backend, or the error its project's backend failed with. */
export async function backendsOf(records: readonly SessionRecord[], backendOf: (record: SessionRecord) => Promise<Backend>): Promise<Map<string, Backend | { failed: unknown }>> {
  const keyOf = (r: SessionRecord): string => `${r.project}\0${r.runtime_name ?? ''}`;
  const first = new Map<string, SessionRecord>();
  for (const r of records) if (!first.has(keyOf(r))) first.set(keyOf(r), r);
  const byKey = new Map<string, Backend | { failed: unknown }>();
  await Promise.all(
    [...first].map(async ([key, r]) => {
      try {
        byKey.set(key, await backendOf(r));
      } catch (err) {
        byKey.set(key, { failed: err });
      }
    }),
  );
  return new Map(records.map((r) => [r.id, byKey.get(keyOf(r))!]));
}

export const isFailed = (b: Backend | { failed: unknown }): b is { failed: unknown } => 'failed' in b;
