/**
 * What the dashboard's event stream carries besides stored events (GET /api/v1/events?feed=1):
 *
 * - `sessions` once on connect: every session of the caller's config (a reconnect gets a
 *   fresh one, so nothing can be missed between two connections);
 * - `session` / `removed` whenever a sweep or an event changed what a session looks like;
 * - `preview`: the last line of output of running sessions, read once per sweep for all
 *   viewers of a config;
 * - `hosts`: the hosts panel, probed every HOSTS_INTERVAL_MS while anyone watches.
 *
 * Work happens only while someone watches, and once per config, whatever the number of
 * viewers. The page never polls.
 */
import type { HostJson, SessionJson } from '../api/contract.js';
import { publicSession } from '../api/in-process.js';
import { withEnv } from '../core/request-env.js';
import { probeHosts } from '../services/host-probe.js';
import type { SessionView } from '../services/session-manager.js';
import type { EventRecord } from '../store/events.js';
import type { SessionRepo } from '../store/sessions.js';
import type { PooledContext } from './contexts.js';
import type { Lifecycle, SweepResult } from './lifecycle.js';
import type { Logger } from './log.js';

const HOSTS_INTERVAL_MS = 10_000;
const PREVIEW_LINES = 15;
const PREVIEW_CONCURRENCY = 8;

export type Send = (event: string, data: unknown) => void;

interface Viewer {
  send: Send;
  /** What this viewer was last sent of each session (JSON text). */
  known: Map<string, string>;
}

interface ConfigWatch {
  ctx: PooledContext;
  viewers: Set<Viewer>;
  previews: Map<string, string>;
  previewing: boolean;
  hosts: HostJson[] | undefined;
  /** The probe loop runs (one per config while anyone watches). */
  probing: boolean;
  hostsTimer: NodeJS.Timeout | undefined;
}

/**
 * The last line that says something, without trailing blanks: an agent's bare input
 * prompt (`›`, `>`, `$ `) is passed over for the line above it.
 */
export function lastLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  for (let i = lines.length - 1; i >= 0; i--) {
    if ((lines[i]!.match(/[\p{L}\p{N}]/gu) ?? []).length >= 3) return lines[i]!.trim();
  }
  return lines[lines.length - 1]?.trim() ?? '';
}

async function eachLimited<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await run(items[next++]!);
  }));
}

export class LiveFeed {
  private readonly watches = new Map<string, ConfigWatch>();

  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly sessions: SessionRepo,
    private readonly log: Logger,
  ) {
    lifecycle.onSweep((configPath, result) => this.swept(configPath, result));
  }

  /** Start a viewer: its snapshot now, changes later. Returns the hook for stored events and the way out. */
  async watch(ctx: PooledContext, send: Send): Promise<{ beforeEvent(e: EventRecord): boolean; close(): void }> {
    let w = this.watches.get(ctx.configPath);
    if (!w) {
      w = { ctx, viewers: new Set(), previews: new Map(), previewing: false, hosts: undefined, probing: false, hostsTimer: undefined };
      this.watches.set(ctx.configPath, w);
    }
    w.ctx = ctx;
    const watch = w;
    const viewer: Viewer = { send, known: new Map() };
    const { sessions, at } = await this.lifecycle.list(ctx);
    const list = sessions.map(publicSession);
    for (const s of list) viewer.known.set(s.id, JSON.stringify(s));
    send('sessions', { sessions: list, checked_at: new Date(at).toISOString() });
    for (const [id, line] of watch.previews) send('preview', { id, line });
    if (watch.hosts) send('hosts', { hosts: watch.hosts });
    watch.viewers.add(viewer);
    if (!watch.probing) {
      watch.probing = true;
      this.probeHosts(watch);
    }
    if (watch.previews.size === 0) void this.readPreviews(watch, sessions);
    const ours = new Set(ctx.config.projects.map((p) => p.name));
    return {
      // A stored event changed a session: show the record at once, before the next sweep.
      beforeEvent: (e) => {
        const record = this.sessions.get(e.session_id);
        if (record) {
          if (!ours.has(record.project)) return false;
          this.update(viewer, publicSession(record));
          return true;
        }
        if (viewer.known.delete(e.session_id)) send('removed', { id: e.session_id });
        return typeof e.detail['project'] === 'string' ? ours.has(e.detail['project']) : false;
      },
      close: () => {
        watch.viewers.delete(viewer);
        if (watch.viewers.size === 0) {
          clearTimeout(watch.hostsTimer);
          this.watches.delete(ctx.configPath);
        }
      },
    };
  }

  private update(viewer: Viewer, s: SessionJson): void {
    const text = JSON.stringify(s);
    if (viewer.known.get(s.id) === text) return;
    viewer.known.set(s.id, text);
    viewer.send('session', s);
  }

  private swept(configPath: string, result: SweepResult): void {
    const watch = this.watches.get(configPath);
    if (!watch) return;
    const list = result.sessions.map(publicSession);
    const ids = new Set(list.map((s) => s.id));
    for (const viewer of watch.viewers) {
      for (const s of list) this.update(viewer, s);
      for (const id of [...viewer.known.keys()]) {
        if (!ids.has(id)) {
          viewer.known.delete(id);
          viewer.send('removed', { id });
        }
      }
    }
    void this.readPreviews(watch, result.sessions);
  }

  /** The last line of every running session, once per sweep (skipped while the previous read still runs). */
  private async readPreviews(watch: ConfigWatch, sessions: SessionView[]): Promise<void> {
    if (watch.previewing) return;
    watch.previewing = true;
    try {
      const running = sessions.filter((s) => s.status === 'running' && !s.unreachable);
      await eachLimited(running, PREVIEW_CONCURRENCY, async (s) => {
        let line: string;
        try {
          line = lastLine(await withEnv(watch.ctx.env, () => watch.ctx.manager.logs(s.id, PREVIEW_LINES)));
        } catch {
          return; // a session that just ended or a host that just dropped: the sweep reports those
        }
        if (watch.previews.get(s.id) === line) return;
        watch.previews.set(s.id, line);
        for (const v of watch.viewers) v.send('preview', { id: s.id, line });
      });
    } finally {
      watch.previewing = false;
    }
  }

  private probeHosts(watch: ConfigWatch): void {
    void withEnv(watch.ctx.env, () => probeHosts(watch.ctx.config, watch.ctx.backends))
      .then((hosts) => {
        watch.hosts = hosts;
        for (const v of watch.viewers) v.send('hosts', { hosts });
      })
      .catch((err: unknown) => this.log.warn('host probe failed', { error: err instanceof Error ? err.message : String(err) }))
      .finally(() => {
        if (watch.viewers.size > 0) watch.hostsTimer = setTimeout(() => this.probeHosts(watch), HOSTS_INTERVAL_MS);
      });
  }
}
