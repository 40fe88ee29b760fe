/**
 * A record's runtime handle, parsed once per distinct handle: every sweep asks for each
 * running session's handle several times, and 1,000 sessions made that a steady stream of
 * parsing and garbage. Handles never change once written, so the parsed ones are shared
 * (frozen: a caller that changed one would change it for everyone).
 */
import type { SessionRecord } from '../store/sessions.js';
import type { RuntimeHandle } from './types.js';

const parsed = new Map<string, RuntimeHandle>();
/** Far more than one orchestrator watches; past it the cache starts over. */
const MAX_CACHED = 20_000;

/** The runtime handle a record keeps (callers check that it has one). */
export function handleOf(record: Pick<SessionRecord, 'runtime_handle'>): RuntimeHandle {
  const text = record.runtime_handle ?? 'null';
  let handle = parsed.get(text);
  if (handle === undefined) {
    if (parsed.size >= MAX_CACHED) parsed.clear();
    handle = deepFreeze(JSON.parse(text) as RuntimeHandle);
    parsed.set(text, handle);
  }
  return handle;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
