/**
 * EnnioApi over a SessionManager in this process: what `--no-server` uses, and what the
 * orchestrator runs for each request it receives. Both give byte-identical results.
 */
import type { SessionView } from '../services/session-manager.js';
import type { Context } from '../cli/context.js';
import type { EnnioConfig } from '../config/schema.js';
import type { CleanupResult, EnnioApi, NodeApi, NodeConnectJson, NodeDisconnectJson, NodeListJson, NodeStatusJson, ListResult, OutputResult, SendResult, SessionInfoJson, SessionJson, SpawnRequest, WaitRequest, WaitResult } from './contract.js';
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

/** The ennio-node part of the API, over a NodeManager in this process (loaded only when used). */
export class InProcessNodeApi implements NodeApi {
  constructor(
    private readonly config: EnnioConfig,
    private readonly home?: string,
  ) {}

  private async manager(): Promise<import('../services/node-manager.js').NodeManager> {
    const { NodeManager } = await import('../services/node-manager.js');
    return this.home === undefined ? new NodeManager(this.config) : new NodeManager(this.config, this.home);
  }

  async nodes(): Promise<NodeListJson[]> {
    const m = await this.manager();
    return m.list().length === 0 ? [] : m.listWithState();
  }

  async nodeStatus(target: string): Promise<NodeStatusJson[]> {
    return (await this.manager()).status(target);
  }

  async nodeConnect(project: string): Promise<NodeConnectJson> {
    const { forward: _none, ...result } = await (await this.manager()).connect(project);
    return result;
  }

  async nodeDisconnect(project: string, shutdown: boolean): Promise<NodeDisconnectJson> {
    return (await this.manager()).disconnect(project, { shutdown });
  }
}

export class InProcessApi implements EnnioApi {
  private readonly nodeApi: InProcessNodeApi;

  constructor(
    private readonly ctx: Pick<Context, 'manager' | 'config'>,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    this.nodeApi = new InProcessNodeApi(ctx.config);
  }

  async spawn(req: SpawnRequest): Promise<SessionJson> {
    const { project, ...options } = req;
    return publicSession(await this.ctx.manager.spawn(project, options));
  }

  async list(project?: string): Promise<ListResult> {
    const sessions = await this.ctx.manager.list(project);
    return { sessions: sessions.map(publicSession), checked_at: new Date().toISOString() };
  }

  /** `checked`: the session as a sweep just saw it (the orchestrator's), else it is checked now. */
  async info(id: string, checked?: SessionView): Promise<SessionInfoJson> {
    const s = checked?.id === id ? await this.ctx.manager.infoOf(checked) : await this.ctx.manager.info(id);
    const events = this.ctx.manager.recentEvents(id, 10);
    return { ...publicSession(s), runtime_info: s.runtime_info, events };
  }

  async send(id: string, message: string): Promise<SendResult> {
    return { id, sent: true, bytes: await this.ctx.manager.send(id, message) };
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

  nodes(): Promise<NodeListJson[]> {
    return this.nodeApi.nodes();
  }

  nodeStatus(target: string): Promise<NodeStatusJson[]> {
    return this.nodeApi.nodeStatus(target);
  }

  nodeConnect(project: string): Promise<NodeConnectJson> {
    return this.nodeApi.nodeConnect(project);
  }

  nodeDisconnect(project: string, shutdown: boolean): Promise<NodeDisconnectJson> {
    return this.nodeApi.nodeDisconnect(project, shutdown);
  }

  close(): Promise<void> {
    return this.onClose();
  }
}
