/** Which activity changes notify, debounced per session, bursts as one summary (pure logic, fake timers). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Transition } from '../src/activity/tracker.js';
import type { Activity } from '../src/activity/types.js';
import { notificationRule, notifySettings, type NotificationRule } from '../src/config/schema.js';
import { NotificationBatcher } from '../src/notify/batcher.js';
import type { Notice } from '../src/notify/events.js';
import type { SessionRecord } from '../src/store/sessions.js';

const T0 = 1_700_000_000_000;
const rule = notificationRule.parse({ on: ['waiting_input', 'idle', 'exited'], command: ['true'], min_working: '30s' });
const settings = notifySettings.parse({ debounce: '2s', burst: 3 });

function t(id: string, from: Activity | null, to: Activity, fromSec: number, atSec: number): Transition {
  const session = { id, project: 'app', host: 'local', branch: `ennio/${id}`, agent: 'claude-code', agent_session_id: null } as unknown as SessionRecord;
  return { session, from, to, since: T0 + atSec * 1000, fromSince: T0 + fromSec * 1000 };
}

let sent: Array<{ rule: NotificationRule; notice: Notice }>;
let batcher: NotificationBatcher;
beforeEach(() => {
  vi.useFakeTimers();
  sent = [];
  batcher = new NotificationBatcher([rule], settings, (r, notice) => sent.push({ rule: r, notice }));
});
afterEach(() => vi.useRealTimers());

const kinds = (): string[] => sent.map(({ notice }) => (notice.type === 'summary' ? `summary:${notice.count}` : `${notice.session_id}:${notice.activity}`));

describe('notifications', () => {
  it('idle notifies only after working at least min_working', () => {
    batcher.push(t('a', 'working', 'idle', 0, 10));
    batcher.push(t('b', 'working', 'idle', 0, 45));
    batcher.push(t('c', 'unknown', 'idle', 0, 45));
    vi.advanceTimersByTime(2000);
    expect(kinds()).toEqual(['b:idle']);
    const notice = sent[0]!.notice;
    expect(notice).toMatchObject({ type: 'activity', previous: 'working', previous_for_s: 45, project: 'app' });
  });

  it('waits for the debounce window, and a session changing again keeps only its latest change', () => {
    batcher.push(t('a', 'working', 'waiting_input', 0, 1));
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([]);
    batcher.push(t('a', 'waiting_input', 'working', 1, 2)); // answered within the window: nobody is pinged
    vi.advanceTimersByTime(2000);
    expect(sent).toEqual([]);
    batcher.push(t('a', 'working', 'waiting_input', 2, 3));
    batcher.push(t('a', 'waiting_input', 'exited', 3, 4));
    vi.advanceTimersByTime(2000);
    expect(kinds()).toEqual(['a:exited']);
  });

  it('many sessions due at once become one summary', () => {
    for (const id of ['a', 'b', 'c', 'd']) batcher.push(t(id, 'working', 'idle', 0, 60));
    batcher.push(t('e', 'working', 'waiting_input', 0, 61));
    vi.advanceTimersByTime(2000);
    expect(kinds()).toEqual(['summary:5']);
    const summary = sent[0]!.notice;
    expect(summary).toMatchObject({ type: 'summary', count: 5, counts: { idle: 4, waiting_input: 1 } });
  });

  it('below the burst size each goes out alone; rules only get what they asked for', () => {
    const exitsOnly = notificationRule.parse({ on: ['exited'], webhook: 'http://127.0.0.1:9/x' });
    batcher.update([rule, exitsOnly], settings);
    batcher.push(t('a', 'working', 'exited', 0, 5));
    batcher.push(t('b', 'working', 'waiting_input', 0, 5));
    vi.advanceTimersByTime(2000);
    expect(sent.map((s) => [s.rule === exitsOnly ? 'webhook' : 'command', s.notice.type === 'activity' ? s.notice.session_id : ''])).toEqual([
      ['command', 'a'], ['command', 'b'], ['webhook', 'a'],
    ]);
  });

  it('a rule needs somewhere to send to', () => {
    expect(notificationRule.safeParse({ on: ['idle'], desktop: false }).success).toBe(false);
    expect(notificationRule.safeParse({ on: ['idle'] }).success).toBe(true);
    expect(notificationRule.safeParse({ on: ['sleeping'], command: ['x'] }).success).toBe(false);
  });
});
