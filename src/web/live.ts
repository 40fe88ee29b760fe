/**
 * Everything the dashboard shows, kept current by one event stream
 * (GET /api/v1/events?feed=1): a `sessions` snapshot on every (re)connect, then
 * `session` / `removed` / `preview` / `hosts` messages and the stored session events.
 * The page never polls. Changes are handed to views at most once per animation frame,
 * so a burst of 1,000 changes costs one render.
 */
import { useEffect, useState } from 'preact/hooks';
import type { EventJson, HostJson, SessionJson } from '../api/contract.js';

const EVENT_TYPES = ['spawned', 'message_sent', 'killed', 'restored', 'exited', 'error', 'status', 'activity'];
const MAX_EVENTS = 500;

export class LiveStore {
  readonly sessions = new Map<string, SessionJson>();
  readonly previews = new Map<string, string>();
  hosts: HostJson[] | undefined;
  readonly events: EventJson[] = [];
  connected = false;
  /** Set once the first snapshot arrived. */
  loaded = false;
  /** Bumped on every change a view may show. */
  version = 0;
  private readonly listeners = new Set<() => void>();
  private frame = 0;
  private source: EventSource | undefined;

  start(url = '/api/v1/events?feed=1'): void {
    const source = new EventSource(url);
    this.source = source;
    const on = (type: string, fn: (data: unknown) => void): void =>
      source.addEventListener(type, (e) => {
        fn(JSON.parse((e as MessageEvent<string>).data) as unknown);
        this.changed();
      });
    source.onopen = () => {
      this.connected = true;
      this.changed();
    };
    source.onerror = () => {
      this.connected = false;
      this.changed();
      // EventSource retries by itself; a 401 (signed out) is final, so the page goes to the login.
      if (source.readyState === EventSource.CLOSED) void fetch('/api/v1/health', { credentials: 'same-origin' }).then((r) => r.status === 401 && location.assign('/login'));
    };
    on('sessions', (d) => {
      const { sessions } = d as { sessions: SessionJson[] };
      this.sessions.clear();
      for (const s of sessions) this.sessions.set(s.id, s);
      this.loaded = true;
    });
    on('session', (d) => {
      const s = d as SessionJson;
      this.sessions.set(s.id, s);
    });
    on('removed', (d) => {
      this.sessions.delete((d as { id: string }).id);
    });
    on('preview', (d) => {
      const { id, line } = d as { id: string; line: string };
      this.previews.set(id, line);
    });
    on('hosts', (d) => {
      this.hosts = (d as { hosts: HostJson[] }).hosts;
    });
    for (const type of EVENT_TYPES) {
      on(type, (d) => {
        this.events.push(d as EventJson);
        if (this.events.length > MAX_EVENTS) this.events.splice(0, this.events.length - MAX_EVENTS);
      });
    }
  }

  stop(): void {
    this.source?.close();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.version++;
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      for (const l of this.listeners) l();
    });
  }
}

export const live = new LiveStore();

/** Re-render the calling component whenever the live store changed. */
export function useLive(): LiveStore {
  const [, setVersion] = useState(0);
  useEffect(() => live.subscribe(() => setVersion(live.version)), []);
  return live;
}

/** Re-render every `ms` (ages like "3m" move on without any new data). */
export function useTick(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
