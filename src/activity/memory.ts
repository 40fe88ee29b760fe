/**
 * What the activity tracker remembers of a session between observations (the record's
 * activity_state: state-file cursor, last screen), how a session spawned with a prompt
 * starts, and which screen is worth reading next given that memory.
 */
import type { AgentActivity } from '../agents/types.js';
import type { SessionRecord } from '../store/sessions.js';
import type { ClassifyRules } from './classify.js';
import type { ActivityState, ScreenReading } from './types.js';

/** What the tracker keeps in activity_state between observations. */
export interface Memory {
  state: ActivityState;
  /** Bytes of the state file already read. */
  cursor: number;
  screen?: {
    /** What identifies the screen's last change (tmux window_activity, a log's mtime, a text hash). */
    mark: string;
    changedAt: number;
    /** The mark when the screen was last read, and what it said then. */
    readMark?: string;
    reading?: ScreenReading;
    /** Read within the second of its last change: read it again (a later change in that second has the same mark). */
    unsettled?: boolean;
  };
}

/**
 * The activity of a session spawned with a prompt, before anything was observed: working
 * on that prompt (ActivityState.promptPending), not the idle its agent's first hook shows.
 */
export function promptedStart(now: number): Pick<SessionRecord, 'activity' | 'activity_since' | 'activity_state'> {
  const memory: Memory = { state: { activity: 'working', since: now, promptPending: true }, cursor: 0 };
  return { activity: 'working', activity_since: new Date(now).toISOString(), activity_state: JSON.stringify(memory) };
}

export const memoryOf = (record: SessionRecord): Memory | undefined => (record.activity_state ? (JSON.parse(record.activity_state) as Memory) : undefined);

/** Which screens are worth reading now: only when the classifier could use what they say. */
export function captureWish(agent: AgentActivity, memory: Memory | undefined, rules: ClassifyRules, now: number): { unlessMark: string; minQuietS: number } | undefined {
  const quietS = Math.ceil(rules.quietMs / 1000);
  const unlessMark = memory?.screen?.unsettled ? '' : (memory?.screen?.readMark ?? '');
  const state = memory?.state;
  if (agent.hooks !== 'full') return { unlessMark, minQuietS: quietS };
  if (!state || state.activity === 'working' || state.activity === 'unknown') {
    // Hooks still firing say enough; a quiet screen after quiet hooks is read.
    if (state && now - (state.hookAt ?? 0) < rules.quietMs) return undefined;
    return { unlessMark, minQuietS: quietS };
  }
  // idle or waiting: a busy indicator drawn after the last hook means a hook was lost.
  return { unlessMark, minQuietS: 0 };
}
