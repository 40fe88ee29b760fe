/**
 * Reconnect backoff for the orchestrator's sweeps. A host (or ennio-node) that could not be
 * asked is not asked again on every sweep: the next attempt waits about 1, 2, 4, 8, 16,
 * 30, 30 … seconds (±20 % jitter, so many orchestrators or hosts do not retry in step).
 * Meanwhile its sessions show as unreachable with the last failure; the first answer
 * clears it. A CLI command that needs the host (send, logs) still tries at once: only the
 * background sweep backs off, since nobody waits on it.
 */

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** ± this fraction of the delay, at random. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 30_000, jitter: 0.2 };

/** The wait after `failures` consecutive failures (1 = the first): base·2^(n-1), capped, jittered. */
export function backoffDelay(failures: number, random: () => number = Math.random, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const exp = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  const spread = (random() * 2 - 1) * policy.jitter;
  return Math.round(exp * (1 + spread));
}

export interface Failing {
  /** The last failure (what sessions on this endpoint show). */
  error: unknown;
  /** Consecutive failures. */
  failures: number;
  /** When the next attempt is allowed (ms since epoch). */
  retryAt: number;
  /** When it started failing. */
  since: number;
}

export interface GateOptions {
  now?: () => number;
  random?: () => number;
  policy?: BackoffPolicy;
}

/** Which endpoints are in backoff, keyed by the sweep's host or node key. */
export class ReconnectGate {
  private readonly failing = new Map<string, Failing>();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly policy: BackoffPolicy;

  constructor(options: GateOptions = {}) {
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.policy = options.policy ?? DEFAULT_BACKOFF;
  }

  /** Undefined when `key` may be asked now; else why not and until when. */
  blocked(key: string): Failing | undefined {
    const f = this.failing.get(key);
    return f && this.now() < f.retryAt ? f : undefined;
  }

  /** The endpoint answered; true when it had been failing (a recovery). */
  succeeded(key: string): boolean {
    return this.failing.delete(key);
  }

  failed(key: string, error: unknown): Failing {
    const now = this.now();
    const before = this.failing.get(key);
    const failures = (before?.failures ?? 0) + 1;
    const f: Failing = { error, failures, retryAt: now + backoffDelay(failures, this.random, this.policy), since: before?.since ?? now };
    this.failing.set(key, f);
    return f;
  }

  /** Endpoints in backoff now (for `ennio server status`). */
  snapshot(): Array<[string, Failing]> {
    return [...this.failing.entries()];
  }

  clock(): number {
    return this.now();
  }
}
