/**
 * Which activity changes are worth a notification, and what one says. Pure: the batching
 * (batcher.ts) and the sending (deliver.ts) are elsewhere.
 */
import type { Activity } from '../activity/types.js';
import type { Transition } from '../activity/tracker.js';
import type { NotificationRule } from '../config/schema.js';

/** One session's change, as a notification's JSON carries it (command stdin, webhook body). */
export interface ActivityNotice {
  type: 'activity';
  session_id: string;
  project: string;
  host: string;
  branch: string;
  agent: string;
  activity: Activity;
  previous: Activity | null;
  /** When it entered the activity (ISO 8601). */
  since: string;
  /** Seconds in the previous activity (how long it worked, for idle). */
  previous_for_s: number | null;
  agent_session_id: string | null;
}

/** Several notices due at once, sent as one. */
export interface SummaryNotice {
  type: 'summary';
  count: number;
  /** activity → how many sessions entered it. */
  counts: Partial<Record<Activity, number>>;
  events: ActivityNotice[];
}

export type Notice = ActivityNotice | SummaryNotice;

export function noticeOf(t: Transition): ActivityNotice {
  return {
    type: 'activity',
    session_id: t.session.id,
    project: t.session.project,
    host: t.session.host,
    branch: t.session.branch,
    agent: t.session.agent,
    activity: t.to,
    previous: t.from,
    since: new Date(t.since).toISOString(),
    previous_for_s: t.fromSince === null ? null : Math.max(0, Math.round((t.since - t.fromSince) / 1000)),
    agent_session_id: t.session.agent_session_id,
  };
}

/** Whether a rule wants this change: its activities; idle only after working at least min_working. */
export function ruleWants(rule: NotificationRule, t: Transition): boolean {
  if (!rule.on.includes(t.to)) return false;
  if (t.to === 'idle') return t.from === 'working' && t.fromSince !== null && t.since - t.fromSince >= rule.min_working;
  return true;
}

export function summaryOf(notices: ActivityNotice[]): SummaryNotice {
  const counts: Partial<Record<Activity, number>> = {};
  for (const n of notices) counts[n.activity] = (counts[n.activity] ?? 0) + 1;
  return { type: 'summary', count: notices.length, counts, events: notices };
}

/** One line for a desktop notification. */
export function headline(n: Notice): { title: string; body: string } {
  if (n.type === 'summary') {
    const parts = Object.entries(n.counts).map(([a, c]) => `${c} ${a === 'waiting_input' ? 'waiting for you' : a}`);
    return { title: `ennio: ${n.count} sessions`, body: parts.join(', ') };
  }
  const what = { waiting_input: 'needs you', idle: 'finished its turn', exited: 'exited', working: 'is working', unknown: 'is in an unknown state' }[n.activity];
  return { title: `ennio: ${n.session_id} ${what}`, body: `${n.project} · ${n.branch} · ${n.host}` };
}
