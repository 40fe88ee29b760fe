/**
 * A record's runtime handle, parsed once per distinct handle: every sweep asks for each
 * running session's handle several times, and 1,000 sessions made that a steady stream of
 * parsing and garbage. Handles never change once written, so the parsed ones are shared,
 * read-only by type (a caller that changed one would change it for everyone). Not frozen at
 * run time: Object.freeze on 2,000 fresh objects was ~40 ms of an in-process status of
 * 1,000 sessions (CPU profile), each command parsing every handle once.
 */
import type { SessionRecord } from '../store/sessions.js';
import type { RuntimeHandle } from './types.js';

/** A shared handle: nobody may change it. */
export type SharedHandle = Readonly<Omit<RuntimeHandle, 'data'>> & { readonly data: Readonly<RuntimeHandle['data']> };

const parsed = new Map<string, SharedHandle>();
/** Far more than one orchestrator watches; past it the cache starts over. */
const MAX_CACHED = 20_000;

/** The runtime handle a record keeps (callers check that it has one). */
export function handleOf(record: Pick<SessionRecord, 'runtime_handle'>): SharedHandle {
  const text = record.runtime_handle ?? 'null';
  let handle = parsed.get(text);
  if (handle === undefined) {
    if (parsed.size >= MAX_CACHED) parsed.clear();
    handle = JSON.parse(text) as SharedHandle;
    parsed.set(text, handle);
  }
  return handle;
}
