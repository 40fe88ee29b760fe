/** The activity classifier, pure: every pitfall of hook-based activity as a case. */
import { describe, expect, it } from 'vitest';
import { classify, classifySteps, hookTarget, type ClassifyInput, type ClassifyRules } from '../src/activity/classify.js';
import type { ActivityState, HookEvent } from '../src/activity/types.js';

const S = 1000;
const rules: ClassifyRules = { quietMs: 10 * S, staleMs: 15 * 60 * S };
const T0 = 1_700_000_000_000;
const hook = (sec: number, event: string, notificationType?: string): HookEvent => ({ at: T0 + sec * S, event, ...(notificationType ? { notificationType } : {}) });

/** Run a sequence of observations for a claude-like agent (full hooks). */
function run(steps: Array<Partial<ClassifyInput> & { at: number }>, start?: ActivityState, hooks: ClassifyInput['hooks'] = 'full'): ActivityState {
  let s = start;
  for (const step of steps) {
    s = classify(s, { events: [], alive: true, hooks, rules, ...step, now: T0 + step.at * S });
  }
  return s!;
}

describe('hooks decide (Claude Code)', () => {
  it('a prompt makes it working, Stop makes it idle, with the hook times as since', () => {
    let s = run([{ at: 1, events: [hook(0, 'SessionStart')] }]);
    expect(s).toMatchObject({ activity: 'idle', since: T0 });
    s = run([{ at: 3, events: [hook(2, 'UserPromptSubmit'), hook(2.5, 'PreToolUse'), hook(2.9, 'PostToolUse')] }], s);
    expect(s).toMatchObject({ activity: 'working', since: T0 + 2 * S });
    s = run([{ at: 30, events: [hook(29, 'Stop')] }], s);
    expect(s).toMatchObject({ activity: 'idle', since: T0 + 29 * S, hookAt: T0 + 29 * S });
  });

  it('a permission prompt is waiting_input; approving it (PostToolUse) is working again', () => {
    let s = run([{ at: 5, events: [hook(1, 'UserPromptSubmit'), hook(2, 'PreToolUse'), hook(3, 'Notification', 'permission_prompt')] }]);
    expect(s).toMatchObject({ activity: 'waiting_input', since: T0 + 3 * S });
    s = run([{ at: 60, events: [hook(59, 'PostToolUse')] }], s);
    expect(s).toMatchObject({ activity: 'working', since: T0 + 59 * S });
  });

  it('PermissionRequest is waiting_input too', () => {
    expect(run([{ at: 3, events: [hook(1, 'UserPromptSubmit'), hook(2, 'PermissionRequest')] }]).activity).toBe('waiting_input');
  });

  it('Notification(idle_prompt) ~60 s after Stop does not turn idle into waiting', () => {
    let s = run([{ at: 10, events: [hook(1, 'UserPromptSubmit'), hook(9, 'Stop')] }]);
    s = run([{ at: 70, events: [hook(69, 'Notification', 'idle_prompt')] }], s);
    expect(s).toMatchObject({ activity: 'idle', since: T0 + 9 * S });
  });

  it('a late permission notification after Stop does not make an idle session waiting', () => {
    let s = run([{ at: 10, events: [hook(1, 'UserPromptSubmit'), hook(9, 'Stop')] }]);
    s = run([{ at: 70, events: [hook(69, 'Notification', 'permission_prompt')] }], s);
    expect(s.activity).toBe('idle');
  });

  it('idle_prompt while a permission prompt waits keeps waiting_input', () => {
    let s = run([{ at: 5, events: [hook(1, 'UserPromptSubmit'), hook(2, 'PreToolUse'), hook(3, 'Notification', 'permission_prompt')] }]);
    s = run([{ at: 70, events: [hook(63, 'Notification', 'idle_prompt')] }], s);
    expect(s).toMatchObject({ activity: 'waiting_input', since: T0 + 3 * S });
  });

  it('SubagentStop keeps the main agent working (and counts as a sign of life)', () => {
    const s = run([{ at: 100, events: [hook(1, 'UserPromptSubmit'), hook(99, 'SubagentStop')], screen: { changedAt: T0 + 99.5 * S } }]);
    expect(s).toMatchObject({ activity: 'working', since: T0 + S, hookAt: T0 + 99 * S });
  });

  it('SessionStart after a compaction in the middle of a turn keeps it working', () => {
    const s = run([{ at: 5, events: [hook(1, 'UserPromptSubmit'), hook(2, 'PreCompact'), hook(4, 'SessionStart')] }]);
    expect(s.activity).toBe('working');
  });

  it('a whole turn read at once still reports every activity it went through', () => {
    const idle = run([{ at: 1, events: [hook(0, 'SessionStart')] }]);
    const steps = classifySteps(idle, { events: [hook(2, 'UserPromptSubmit'), hook(3, 'PreToolUse'), hook(4, 'Notification', 'permission_prompt'), hook(9, 'PostToolUse'), hook(12, 'Stop')], alive: true, hooks: 'full', now: T0 + 13 * S, rules });
    expect(steps.map((x) => [x.activity, (x.since - T0) / S])).toEqual([['working', 2], ['waiting_input', 4], ['working', 9], ['idle', 12]]);
    expect(classifySteps(steps.at(-1), { events: [], alive: true, hooks: 'full', now: T0 + 14 * S, rules }).map((x) => x.activity)).toEqual(['idle']);
  });

  it('unknown events and unknown notification types change nothing', () => {
    expect(hookTarget('idle', { at: 0, event: 'SomethingNew' })).toBeUndefined();
    expect(hookTarget('working', { at: 0, event: 'Notification', notificationType: 'auth_success' })).toBeUndefined();
  });
});

describe('the screen corrects what hooks cannot see', () => {
  const working = (): ActivityState => run([{ at: 2, events: [hook(1, 'UserPromptSubmit')] }]);

  it('Esc interrupt (no Stop): a quiet screen showing the prompt is idle, since the screen went quiet', () => {
    const s = run([{ at: 40, screen: { changedAt: T0 + 20 * S, reading: 'idle' } }], working());
    expect(s).toMatchObject({ activity: 'idle', since: T0 + 20 * S });
  });

  it('not before the screen has been quiet for quietMs', () => {
    const s = run([{ at: 25, screen: { changedAt: T0 + 20 * S, reading: 'idle' } }], working());
    expect(s.activity).toBe('working');
  });

  it('a quiet screen showing a question is waiting_input', () => {
    const s = run([{ at: 40, screen: { changedAt: T0 + 20 * S, reading: 'waiting_input' } }], working());
    expect(s).toMatchObject({ activity: 'waiting_input', since: T0 + 20 * S });
  });

  it('a long tool call with no hook for an hour is still working while the screen changes', () => {
    const s = run([{ at: 3600, screen: { changedAt: T0 + 3599 * S, reading: 'working' } }], working());
    expect(s).toMatchObject({ activity: 'working', since: T0 + S });
  });

  it('a recent hook keeps it working even when the screen has been still', () => {
    const s = run([{ at: 40, events: [hook(35, 'PostToolUse')], screen: { changedAt: T0 + 5 * S, reading: 'idle' } }], working());
    expect(s.activity).toBe('working');
  });

  it('a lost Stop hook: the quiet prompt makes it idle instead of working for days', () => {
    const s = run([{ at: 3 * 86_400, screen: { changedAt: T0 + 60 * S, reading: 'idle' } }], working());
    expect(s).toMatchObject({ activity: 'idle', since: T0 + 60 * S });
  });

  it('a lost hook with a screen that says nothing: unknown after staleMs, not working forever', () => {
    const before = run([{ at: 600, screen: { changedAt: T0 + 60 * S } }], working());
    expect(before.activity).toBe('working');
    const s = run([{ at: 86_400, screen: { changedAt: T0 + 60 * S } }], before);
    expect(s).toMatchObject({ activity: 'unknown', since: T0 + 86_400 * S });
  });

  it('a lost hook with no screen at all: unknown after staleMs', () => {
    expect(run([{ at: 600 }], working()).activity).toBe('working');
    expect(run([{ at: 1000 }], working())).toMatchObject({ activity: 'unknown', since: T0 + 1000 * S });
  });

  it('a lost UserPromptSubmit: the working indicator appearing after the last hook makes an idle session working', () => {
    const idle = run([{ at: 10, events: [hook(1, 'UserPromptSubmit'), hook(9, 'Stop')] }]);
    const s = run([{ at: 100, screen: { changedAt: T0 + 99 * S, reading: 'working' } }], idle);
    expect(s).toMatchObject({ activity: 'working', since: T0 + 99 * S });
  });

  it('the prompt redrawn right after Stop is not new work', () => {
    const idle = run([{ at: 10, events: [hook(1, 'UserPromptSubmit'), hook(9, 'Stop')] }]);
    const s = run([{ at: 10.5, screen: { changedAt: T0 + 9.5 * S, reading: 'working' } }], idle);
    expect(s.activity).toBe('idle');
  });

  it('a long tool approved after a permission prompt shows working on screen', () => {
    const waiting = run([{ at: 5, events: [hook(1, 'UserPromptSubmit'), hook(2, 'PreToolUse'), hook(3, 'Notification', 'permission_prompt')] }]);
    const s = run([{ at: 30, screen: { changedAt: T0 + 29 * S, reading: 'working' } }], waiting);
    expect(s.activity).toBe('working');
  });

  it('a stale unknown recovers when the screen shows the prompt', () => {
    const unknown = run([{ at: 1000 }], working());
    const s = run([{ at: 1010, screen: { changedAt: T0 + 900 * S, reading: 'idle' } }], unknown);
    expect(s.activity).toBe('idle');
  });
});

describe('a prompt given at spawn (Claude Code fires SessionStart before its UserPromptSubmit)', () => {
  const spawned: ActivityState = { activity: 'working', since: T0, promptPending: true };

  it('SessionStart and a quiet input box while it loads keep it working; the turn\'s hooks then decide', () => {
    let s = run([{ at: 1, events: [hook(0.5, 'SessionStart')] }], spawned);
    expect(s).toMatchObject({ activity: 'working', since: T0, promptPending: true });
    s = run([{ at: 30, screen: { changedAt: T0 + 1 * S, reading: 'idle' } }], s);
    expect(s).toMatchObject({ activity: 'working', since: T0, promptPending: true });
    s = run([{ at: 31, events: [hook(30.5, 'UserPromptSubmit'), hook(30.8, 'PreToolUse')] }], s);
    expect(s).toMatchObject({ activity: 'working', since: T0 });
    expect(s.promptPending).toBeUndefined();
    s = run([{ at: 40, events: [hook(39, 'Stop')] }], s);
    expect(s).toMatchObject({ activity: 'idle', since: T0 + 39 * S });
  });

  it('the whole first turn read at once: working, then idle at its Stop (never the SessionStart idle)', () => {
    const steps = classifySteps(spawned, { events: [hook(0.5, 'SessionStart'), hook(3, 'UserPromptSubmit'), hook(8, 'Stop')], alive: true, hooks: 'full', now: T0 + 9 * S, rules });
    expect(steps.map((x) => [x.activity, (x.since - T0) / S])).toEqual([['idle', 8]]);
  });

  it('a question in the first turn is waiting_input; a Stop without UserPromptSubmit (lost hook) is idle', () => {
    expect(run([{ at: 5, events: [hook(0.5, 'SessionStart'), hook(2, 'PreToolUse'), hook(3, 'Notification', 'permission_prompt')] }], spawned).activity).toBe('waiting_input');
    const s = run([{ at: 5, events: [hook(0.5, 'SessionStart'), hook(4, 'Stop')] }], spawned);
    expect(s).toMatchObject({ activity: 'idle', since: T0 + 4 * S });
    expect(s.promptPending).toBeUndefined();
  });

  it('a prompt never taken lapses after staleMs: then the quiet input box is idle', () => {
    const s = run([{ at: 1000, events: [hook(0.5, 'SessionStart')], screen: { changedAt: T0 + 1 * S, reading: 'idle' } }], spawned);
    expect(s).toMatchObject({ activity: 'idle', since: T0 + 1 * S });
    expect(s.promptPending).toBeUndefined();
  });

  it('screen agents: the screen decides as usual', () => {
    const s = run([{ at: 30, screen: { changedAt: T0 + 12 * S, reading: 'idle' } }], spawned, 'none');
    expect(s).toMatchObject({ activity: 'idle', since: T0 + 12 * S });
    expect(s.promptPending).toBeUndefined();
  });

  it('its agent exiting is exited', () => {
    const s = classify(spawned, { events: [hook(0.5, 'SessionStart')], alive: false, hooks: 'full', now: T0 + 5 * S, rules });
    expect(s).toMatchObject({ activity: 'exited', since: T0 + 5 * S });
  });
});

describe('liveness: the agent process decides', () => {
  it('a dead agent is exited whatever the hooks said, since when it was seen', () => {
    const working = run([{ at: 2, events: [hook(1, 'UserPromptSubmit')] }]);
    const s = classify(working, { events: [], alive: false, hooks: 'full', now: T0 + 50 * S, rules });
    expect(s).toMatchObject({ activity: 'exited', since: T0 + 50 * S });
    // Seen again: since stays.
    expect(classify(s, { events: [], alive: false, hooks: 'full', now: T0 + 90 * S, rules }).since).toBe(T0 + 50 * S);
  });

  it('SessionEnd alone (e.g. /clear) is not exited while the process lives', () => {
    const s = run([{ at: 3, events: [hook(1, 'UserPromptSubmit'), hook(2, 'SessionEnd')] }]);
    expect(s.activity).toBe('idle');
  });

  it('a restored session starts over from exited', () => {
    const exited: ActivityState = { activity: 'exited', since: T0 };
    const s = run([{ at: 5, events: [hook(4, 'SessionStart')] }], exited);
    expect(s).toMatchObject({ activity: 'idle', since: T0 + 4 * S });
    expect(run([{ at: 5 }], exited)).toMatchObject({ activity: 'unknown', since: T0 + 5 * S });
  });

  it('a session never observed is unknown', () => {
    expect(run([{ at: 1 }])).toMatchObject({ activity: 'unknown', since: T0 + S });
  });
});

describe('screen agents (aider, opencode, custom)', () => {
  it('output changing is working; a quiet prompt is idle since the output stopped', () => {
    let s = run([{ at: 5, screen: { changedAt: T0 + 4 * S } }], undefined, 'none');
    expect(s).toMatchObject({ activity: 'working', since: T0 + 5 * S });
    s = run([{ at: 8, screen: { changedAt: T0 + 7.5 * S } }], s, 'none');
    expect(s).toMatchObject({ activity: 'working', since: T0 + 5 * S });
    s = run([{ at: 30, screen: { changedAt: T0 + 12 * S, reading: 'idle' } }], s, 'none');
    expect(s).toMatchObject({ activity: 'idle', since: T0 + 12 * S });
  });

  it('a quiet question is waiting_input', () => {
    expect(run([{ at: 30, screen: { changedAt: T0 + 12 * S, reading: 'waiting_input' } }], undefined, 'none').activity).toBe('waiting_input');
  });

  it('a quiet screen without the agent prompt is unknown', () => {
    const working = run([{ at: 5, screen: { changedAt: T0 + 4 * S } }], undefined, 'none');
    expect(run([{ at: 30, screen: { changedAt: T0 + 12 * S } }], working, 'none')).toMatchObject({ activity: 'unknown', since: T0 + 12 * S });
  });

  it('codex: the turn-end hook makes it idle at once; new output after it is working again', () => {
    let s = run([{ at: 5, screen: { changedAt: T0 + 4.9 * S } }], undefined, 'turn_end');
    expect(s.activity).toBe('working');
    s = run([{ at: 6, events: [hook(5.5, 'agent-turn-complete')], screen: { changedAt: T0 + 5.4 * S } }], s, 'turn_end');
    expect(s).toMatchObject({ activity: 'idle', since: T0 + 5.5 * S });
    s = run([{ at: 20, screen: { changedAt: T0 + 19 * S } }], s, 'turn_end');
    expect(s.activity).toBe('working');
  });
});
