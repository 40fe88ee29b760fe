/**
 * EnnioApi over a SessionManager in this process: what `--no-server` uses, and what the
 * orchestrator runs for each request it receives. Both give byte-identical results.
 */
import type { SessionView } from '../services/session-manager.js';
import type { Context } from '../cli/context.js';
import type { CleanupResult, EnnioApi, ListResult, OutputResult, SendResult, SessionInfoJson, SessionJson, SpawnRequest, WaitRequest, WaitResult } from './contract.js';
import { waitFor } from '../activity/wait.js';
import { followOutput } from './follow.js';
import type { Activity } from '../activity/types.js';

/**
 * What clients see of a session: the record without the opaque runtime handle and the
 * activity tracker's memory. A session never observed is unknown while it runs, exited after.
 */
export function publicSession(s: SessionView): SessionJson {
  const { runtime_handle: _handle, activity_state: _memory, info, activity, activity_since, ...rest } = s;
  const live = s.status === 'running' || s.status === 'spawning';
  return {
    ...rest,
    info: info ? (JSON.parse(info) as unknown) : null,
    activity: (activity as Activity | null) ?? (live ? 'unknown' : 'exited'),
    activity_since: activity_since ?? s.updated_at,
  };
}

export class InProcessApi implements EnnioApi {
  constructor(
    private readonly ctx: Pick<Context, 'manager'>,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {}

  async spawn(req: SpawnRequest): Promise<SessionJson> {
    const { project, ...options } = req;
    return publicSession(await this.ctx.manager.spawn(project, options));
  }

  async list(project?: string): Promise<ListResult> {
    const sessions = await this.ctx.manager.list(project);
    return { sessions: sessions.map(publicSession), checked_at: new Date().toISOString() };
  }

  async info(id: string): Promise<SessionInfoJson> {
    const s = await this.ctx.manager.info(id);
    const events = this.ctx.manager.recentEvents(id, 10);
    return { ...publicSession(s), runtime_info: s.runtime_info, events };
  }

  async send(id: string, message: string): Promise<SendResult> {
    await this.ctx.manager.send(id, message);
    return { id, sent: true, bytes: Buffer.byteLength(message) };
  }

  async output(id: string, lines: number): Promise<OutputResult> {
    return { id, lines, output: await this.ctx.manager.logs(id, lines) };
  }

  follow(id: string, lines: number, onText: (text: string) => void, signal: AbortSignal, onNotice?: (text: string) => void): Promise<void> {
    return followOutput((n) => this.ctx.manager.logs(id, n), lines, onText, signal, onNotice);
  }

  attachArgv(id: string): Promise<string[]> {
    return this.ctx.manager.attachArgv(id);
  }

  async kill(id: string): Promise<SessionJson> {
    return publicSession(await this.ctx.manager.kill(id));
  }

  async restore(id: string): Promise<SessionJson> {
    return publicSession(await this.ctx.manager.restore(id));
  }

  cleanup(purge: boolean): Promise<CleanupResult> {
    return this.ctx.manager.cleanup(purge);
  }

  wait(req: WaitRequest): Promise<WaitResult> {
    return waitFor(req, async (ids) =>
      (await this.ctx.manager.check(ids)).map((s) => {
        const { activity, activity_since } = publicSession(s);
        return { id: s.id, activity, activity_since, lastMessageAt: this.ctx.manager.lastMessageAt(s.id) };
      }),
    );
  }

  close(): Promise<void> {
    return this.onClose();
  }
}
