/**
 * Idle timeout: the daemon exits after `timeoutMs` without gRPC activity. Activity is
 * the start and the end of every call, and a call in flight keeps the daemon alive
 * however long it runs (a 10-minute git clone is not idleness).
 *
 * The timer is re-armed for exactly the remaining time, so the exit happens within a
 * few milliseconds of the deadline rather than on a coarse polling tick.
 */
export class IdleTracker {
  private active = 0;
  private last: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly onIdle: () => void,
    private readonly now: () => number = Date.now,
  ) {
    this.last = now();
    this.arm();
  }

  /** Calls currently in flight. */
  get inFlight(): number {
    return this.active;
  }

  /** Milliseconds since the last call started or ended (0 while a call is in flight). */
  idleMs(): number {
    return this.active > 0 ? 0 : this.now() - this.last;
  }

  begin(): void {
    this.active++;
    this.last = this.now();
    this.clear();
  }

  end(): void {
    this.active = Math.max(0, this.active - 1);
    this.last = this.now();
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.clear();
    if (this.stopped || this.timeoutMs <= 0 || this.active > 0) return;
    const remaining = this.last + this.timeoutMs - this.now();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped || this.active > 0) return;
      if (this.now() - this.last >= this.timeoutMs) this.onIdle();
      else this.arm();
    }, Math.max(0, remaining));
  }
}
