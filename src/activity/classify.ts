/**
 * The activity classifier: hook events + screen evidence + liveness + time → what the
 * agent is doing, and since when. Pure (no I/O, the clock is an input), so every pitfall
 * that peers' users report is a unit test (test/activity-classify.test.ts):
 *
 * - a Notification(idle_prompt) ~60 s after Stop must not turn idle into waiting;
 * - Esc interrupts a turn without a Stop hook: a quiet screen showing the prompt decides;
 * - a long tool call or a subagent is still working (the screen keeps changing);
 * - a lost hook must not leave a session "working" for days: a quiet screen corrects it,
 *   and with nothing to read a staleness rule makes it unknown;
 * - the agent's process, not the tmux session, decides liveness (`alive`);
 * - a prompt given at spawn is working before its first hook: SessionStart comes first
 *   and looks idle (ActivityState.promptPending).
 */
import type { Activity, ActivityState, HookCoverage, HookEvent, ScreenEvidence } from './types.js';

export interface ClassifyRules {
  /** A screen unchanged this long (and no hook this long) is not working. */
  quietMs: number;
  /** "working" from hooks with no hook this long, and nothing on screen to say otherwise, becomes unknown. */
  staleMs: number;
}

export const DEFAULT_RULES: ClassifyRules = { quietMs: 10_000, staleMs: 15 * 60_000 };

/** A redraw right after a hook (the prompt drawn after Stop) is the hook's own doing, not new work. */
const REDRAW_GRACE_MS = 2_000;

export interface ClassifyInput {
  /** New hook events since the last call, oldest first. */
  events: readonly HookEvent[];
  /** The screen, when the runtime can show it. */
  screen?: ScreenEvidence | undefined;
  /** Whether the agent's process runs. */
  alive: boolean;
  hooks: HookCoverage;
  now: number;
  rules?: ClassifyRules;
}

const NEEDS_YOU = new Set(['permission_prompt', 'elicitation_dialog']);

/** The activity one hook event moves to from `current`; undefined = no change. */
export function hookTarget(current: Activity, e: HookEvent): Activity | undefined {
  switch (e.event) {
    case 'UserPromptSubmit':
    case 'PreToolUse':
    case 'PostToolUse':
    case 'PreCompact':
      return 'working';
    case 'PermissionRequest':
      return 'waiting_input';
    case 'Notification':
      if (NEEDS_YOU.has(e.notificationType ?? '')) {
        // A real permission prompt follows PreToolUse (so the turn is working); one that
        // arrives while idle is a late echo of a finished turn.
        return current === 'idle' ? undefined : 'waiting_input';
      }
      if (e.notificationType === 'idle_prompt') {
        // "waiting for your input" ~60 s after the last turn: never a question. It proves
        // an interrupted turn (Esc fires no Stop) is over; a pending permission prompt stays.
        return current === 'working' || current === 'unknown' ? 'idle' : undefined;
      }
      return undefined;
    case 'Stop':
    case 'SessionEnd':
    case 'agent-turn-complete':
      return 'idle';
    case 'SessionStart':
      // Also fires after an automatic compaction in the middle of a turn, which goes on.
      return current === 'working' ? undefined : 'idle';
    default:
      // SubagentStop: the main agent goes on; unknown events change nothing.
      return undefined;
  }
}

function moveTo(s: ActivityState, activity: Activity, since: number): ActivityState {
  return s.activity === activity ? s : { ...s, activity, since };
}

function taken(s: ActivityState): ActivityState {
  if (!s.promptPending) return s;
  const { promptPending: _, ...rest } = s;
  return rest;
}

/** The state after the events, and every activity entered on the way (a whole turn can arrive in one read). */
export function applyHooks(start: ActivityState, events: readonly HookEvent[]): { state: ActivityState; entered: ActivityState[] } {
  let s = start;
  const entered: ActivityState[] = [];
  for (const e of events) {
    let to = hookTarget(s.activity, e);
    if (s.promptPending) {
      // SessionStart is the agent starting, before it takes the prompt; any hook that moves
      // the session (the prompt's turn, a question, its end) shows the prompt taken.
      if (e.event === 'SessionStart') to = undefined;
      else if (to !== undefined) s = taken(s);
    }
    s = { ...s, hookAt: Math.max(s.hookAt ?? 0, e.at) };
    if (to && to !== s.activity) {
      s = moveTo(s, to, e.at);
      entered.push(s);
    }
  }
  return { state: s, entered };
}

/** Hooks decide; the screen corrects what hooks cannot see (Esc, lost hooks, long tools after a permission prompt). */
function correctByScreen(state: ActivityState, screen: ScreenEvidence | undefined, now: number, rules: ClassifyRules): ActivityState {
  // A quiet input box before the spawn prompt's first hook is the agent loading, not idle;
  // after stale_after without a hook the usual rules decide again.
  if (state.promptPending && now - state.since < rules.staleMs) return state;
  const s = taken(state);
  const hookAt = s.hookAt ?? 0;
  if (!screen) {
    if ((s.activity === 'working') && now - Math.max(hookAt, s.since) >= rules.staleMs) return moveTo(s, 'unknown', now);
    return s;
  }
  const quietSince = Math.max(screen.changedAt, hookAt);
  const quiet = now - quietSince >= rules.quietMs;
  if ((s.activity === 'working' || s.activity === 'unknown') && quiet) {
    if (screen.reading === 'idle' || screen.reading === 'waiting_input') return moveTo(s, screen.reading, quietSince);
    if (s.activity === 'working' && now - quietSince >= rules.staleMs) return moveTo(s, 'unknown', now);
    return s;
  }
  const changing = now - screen.changedAt < rules.quietMs;
  if (s.activity !== 'working' && changing && screen.reading === 'working' && screen.changedAt > hookAt + REDRAW_GRACE_MS) {
    return moveTo(s, 'working', screen.changedAt);
  }
  return s;
}

/** No hooks for turns (or only their end): output changing is working, a quiet screen says the rest. */
function readScreen(s: ActivityState, screen: ScreenEvidence | undefined, now: number, rules: ClassifyRules): ActivityState {
  if (!screen) return s;
  const hookAt = s.hookAt ?? 0;
  const changing = now - screen.changedAt < rules.quietMs;
  // A turn-end hook after the last change ends the turn now, without waiting for quiet.
  if (s.activity === 'idle' && hookAt > 0 && screen.changedAt <= hookAt + REDRAW_GRACE_MS) return s;
  if (changing) return moveTo(s, screen.reading === 'waiting_input' ? 'waiting_input' : 'working', now);
  const reading = screen.reading;
  if (reading === 'idle' || reading === 'waiting_input') return moveTo(s, reading, screen.changedAt);
  if (reading === 'working' && now - screen.changedAt < rules.staleMs) return moveTo(s, 'working', s.activity === 'working' ? s.since : now);
  return moveTo(s, 'unknown', screen.changedAt);
}

/**
 * Every activity entered since the previous state (undefined for a session never observed),
 * oldest first; the last one is where the session is now (or the previous state, unchanged).
 */
export function classifySteps(previous: ActivityState | undefined, input: ClassifyInput): ActivityState[] {
  const rules = input.rules ?? DEFAULT_RULES;
  const start: ActivityState = previous ?? { activity: 'unknown', since: input.now };
  // A restored session starts over: the old "exited" says nothing about the new process.
  // A pending prompt is for agents whose hooks show a turn start; the screen decides for the rest.
  const fresh: ActivityState = start.activity === 'exited' && input.alive ? { activity: 'unknown', since: input.now } : input.hooks === 'full' ? start : taken(start);
  const { state: s, entered } = applyHooks(fresh, input.events);
  const final = !input.alive
    ? moveTo(taken(s), 'exited', input.now)
    : input.hooks === 'full' ? correctByScreen(s, input.screen, input.now, rules) : readScreen(s, input.screen, input.now, rules);
  const steps = final.activity !== s.activity ? [...entered, final] : entered.length > 0 ? [...entered.slice(0, -1), final] : [final];
  return steps;
}

/** The next state from the previous one (undefined for a session never observed) and what was seen since. */
export function classify(previous: ActivityState | undefined, input: ClassifyInput): ActivityState {
  return classifySteps(previous, input).at(-1)!;
}
