/**
 * Ctrl-C (or SIGTERM) during a multi-step operation: instead of dying with half of it
 * done, the process notes the signal, the operation stops at its next step boundary and
 * rolls back, and the process then exits with 128 + signal number. Locally Ctrl-C also
 * reaches the step's own child processes (post_create, git), so a long step ends promptly;
 * on a remote host the step in flight finishes first, then the rollback runs.
 */
import { EnnioError } from '../core/errors.js';
import { currentAbortSignal } from '../core/request-env.js';

const SIGNAL_NUMBER: Record<string, number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };

export class Interrupt {
  private signal: NodeJS.Signals | undefined;
  private readonly handler = (signal: NodeJS.Signals): void => {
    if (this.signal) process.exit(128 + (SIGNAL_NUMBER[signal] ?? 0)); // a second signal: give up now
    this.signal = signal;
    process.exitCode = 128 + (SIGNAL_NUMBER[signal] ?? 0);
  };

  private readonly request = currentAbortSignal();
  private readonly onAbort = (): void => {
    this.signal ??= 'SIGINT'; // the client was interrupted (Ctrl-C) or went away
  };

  constructor() {
    // Inside the orchestrator a request's abort is its Ctrl-C; the server's own signals mean shutdown.
    if (this.request) this.request.addEventListener('abort', this.onAbort);
    else for (const s of Object.keys(SIGNAL_NUMBER)) process.on(s, this.handler);
  }

  /** Throws when a signal arrived: before rollback (to start it), or after it with what it could not undo. */
  check(cleanupProblems?: readonly string[]): void {
    if (!this.signal) return;
    const outcome = cleanupProblems === undefined
      ? 'stopping'
      : cleanupProblems.length === 0
        ? 'everything made so far was removed'
        : `undoing failed, remove by hand: ${cleanupProblems.join('; ')}`;
    throw new EnnioError('INTERRUPTED', `interrupted by ${this.signal}; ${outcome}`);
  }

  dispose(): void {
    if (this.request) this.request.removeEventListener('abort', this.onAbort);
    else for (const s of Object.keys(SIGNAL_NUMBER)) process.off(s, this.handler);
    // Exit code stays 128+n from the handler when a signal arrived.
  }
}
