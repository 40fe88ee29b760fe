/**
 * Talking to a session's agent: typing a message in, reading its output, attaching to or
 * streaming its terminal. The session must be running (the terminal: or exited, its last
 * screen kept); a dead one is refused with SESSION_STATE and, where it can be brought back,
 * a hint to restore it.
 */
import { trace } from '../core/trace.js';
import { EnnioError, isEnnioError } from '../core/errors.js';
import { normalizeMessage } from '../ops/message.js';
import type { SessionView } from '../lifecycle/sweep-status.js';
import { handleOf } from '../strategies/handle-of.js';
import type { EventRepo } from '../store/events.js';
import { RESTORABLE_STATUSES, type SessionRecord } from '../store/sessions.js';
import type { Backend, RuntimeHandle, TerminalSize, TerminalStream } from '../strategies/types.js';

/** What talking to sessions needs of the session manager. */
export interface SessionIoStore {
  events: EventRepo;
  /** The record, or UNKNOWN_SESSION. */
  get(id: string): SessionRecord;
  backendOf(record: SessionRecord): Promise<Backend>;
  /** The session checked now (running → exited recorded), without its activity. */
  refresh(record: SessionRecord): Promise<SessionView>;
}

export class SessionIo {
  constructor(private readonly store: SessionIoStore) {}

  private notRunning(record: SessionRecord): EnnioError {
    return new EnnioError('SESSION_STATE', `session ${record.id} is ${record.status}, not running`, {
      hint: RESTORABLE_STATUSES.includes(record.status) ? `restore it with: ennio session restore ${record.id}` : undefined,
    });
  }

  private async running(id: string): Promise<{ record: SessionRecord; backend: Backend; handle: RuntimeHandle }> {
    const record = await this.store.refresh(this.store.get(id));
    if (record.status !== 'running' || !record.runtime_handle) throw this.notRunning(record);
    return { record, backend: await this.store.backendOf(record), handle: handleOf(record) };
  }

  /**
   * Type the message in and submit it; resolves with the bytes sent (after CRLF → LF).
   * No sweep first: every runtime that takes messages checks liveness itself and refuses
   * a dead session with SESSION_STATE before typing anything (Runtime.send), so a live
   * session costs one check, not two. Only a refusal is followed by a sweep of the
   * session, which records running → exited and gives the usual "is exited" error.
   */
  async send(id: string, raw: string): Promise<number> {
    if (raw.length === 0) throw new EnnioError('INVALID_ARGUMENT', 'the message is empty', { hint: 'pass text, --file F, or pipe it on stdin' });
    const message = normalizeMessage(raw); // refused here, before the session or its host is looked at
    const record = this.store.get(id);
    const runtime = (await this.store.backendOf(record)).runtime;
    if (runtime.acceptsMessages === false && record.runtime_handle) {
      await runtime.send(handleOf(record), message); // refuses with its reason
    }
    if (record.status !== 'running' || !record.runtime_handle) throw this.notRunning(record);
    try {
      await runtime.send(handleOf(record), message);
    } catch (err) {
      if (!isEnnioError(err, 'SESSION_STATE')) throw err;
      const now = await this.store.refresh(this.store.get(id));
      throw now.status === 'running' ? err : this.notRunning(now);
    }
    trace('send: sent');
    const bytes = Buffer.byteLength(message);
    this.store.events.append(id, 'message_sent', { bytes, preview: message.slice(0, 120) });
    return bytes;
  }

  /** Output of a session; a killed session has none (its runtime is gone). */
  async logs(id: string, lines: number): Promise<string> {
    const record = this.store.get(id);
    if (!record.runtime_handle || record.status === 'killed') {
      throw new EnnioError('SESSION_STATE', `session ${id} is ${record.status}; its output went with its runtime`);
    }
    return (await this.store.backendOf(record)).runtime.output(handleOf(record), lines);
  }

  async attachArgv(id: string): Promise<string[]> {
    const { backend, handle } = await this.running(id);
    return backend.runtime.attachArgv(handle);
  }

  /** The session's terminal, streamed; an exited agent's last screen is still there (remain-on-exit). */
  async openTerminal(id: string, size: TerminalSize): Promise<TerminalStream> {
    const record = await this.store.refresh(this.store.get(id));
    if ((record.status !== 'running' && record.status !== 'exited') || !record.runtime_handle) {
      throw new EnnioError('SESSION_STATE', `session ${id} is ${record.status}: it has no terminal`, {
        hint: RESTORABLE_STATUSES.includes(record.status) ? `restore it with: ennio session restore ${id}` : undefined,
      });
    }
    const runtime = (await this.store.backendOf(record)).runtime;
    if (!runtime.openTerminal) {
      throw new EnnioError('NOT_SUPPORTED', `session ${id} runs without a terminal (runtime ${runtime.name})`, { hint: `read its output with: ennio logs ${id}` });
    }
    return runtime.openTerminal(handleOf(record), size);
  }
}
