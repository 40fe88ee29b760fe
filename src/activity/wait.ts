/**
 * `ennio wait`: poll sessions until each reached the activity asked for. The decision is
 * pure (reachedFor) so it is the same in-process and in the orchestrator, which both run
 * waitFor with their own way of checking sessions.
 */
import type { WaitFor, WaitRequest, WaitResult } from '../api/contract.js';
import { EnnioError } from '../core/errors.js';
import { currentAbortSignal } from '../core/request-env.js';
import type { Activity } from './types.js';

export interface WaitView {
  id: string;
  activity: Activity;
  activity_since: string;
  /** When ennio last typed a message into it (ms): a state older than that is not the answer yet. */
  lastMessageAt?: number | undefined;
}

/** 'yes' when the session is where the caller wants it; 'never' when it cannot get there any more. */
export function reachedFor(view: WaitView, want: WaitFor): 'yes' | 'no' | 'never' {
  const fresh = view.lastMessageAt === undefined || Date.parse(view.activity_since) >= view.lastMessageAt;
  if (view.activity === 'exited') return want === 'exited' || want === 'any' ? 'yes' : 'never';
  if (!fresh) return 'no';
  if (want === 'any') return view.activity === 'idle' || view.activity === 'waiting_input' ? 'yes' : 'no';
  return view.activity === want ? 'yes' : 'no';
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function waitFor(req: WaitRequest, check: (ids: string[]) => Promise<WaitView[]>, pollMs = 1000): Promise<WaitResult> {
  const deadline = req.timeout === undefined ? Infinity : Date.now() + req.timeout * 1000;
  const signal = currentAbortSignal();
  for (;;) {
    const views = await check(req.ids);
    const states = views.map((v) => ({ v, r: reachedFor(v, req.for) }));
    const never = states.find((s) => s.r === 'never');
    if (never) {
      throw new EnnioError('SESSION_STATE', `session ${never.v.id} exited while waiting for ${req.for}`, {
        hint: `restore it with: ennio session restore ${never.v.id}`,
      });
    }
    if (states.every((s) => s.r === 'yes')) {
      return { sessions: views.map((v) => ({ id: v.id, activity: v.activity, activity_since: v.activity_since })) };
    }
    if (signal?.aborted) throw new EnnioError('INTERRUPTED', 'wait interrupted');
    if (Date.now() >= deadline) {
      const pending = states.filter((s) => s.r !== 'yes').map((s) => `${s.v.id} (${s.v.activity})`);
      throw new EnnioError('TIMEOUT', `timed out after ${req.timeout}s waiting for ${req.for}: ${pending.join(', ')}`);
    }
    await sleep(Math.min(pollMs, deadline - Date.now()), signal);
  }
}
