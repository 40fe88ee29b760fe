/**
 * One session: its terminal (live, keys reach the agent), a message box (the same
 * delivery as `ennio send`), Kill and Restore (confirmed first), its recent events,
 * branch, workspace and share URLs.
 */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { EventJson, SessionInfoJson, SessionJson } from '../api/contract.js';
import { api, ApiError, sessionPath } from './api.js';
import { activityLabel, activityOf, age } from './format.js';
import { useLive, useTick } from './live.js';
import { linkClick } from './router.js';
import type { TerminalView } from './terminal-view.js';

const HAS_TERMINAL = new Set(['running', 'exited']);

/** xterm.js is loaded with the first session page, not with the overview. */
let terminalModule: Promise<typeof TerminalView> | undefined;

function LazyTerminal(props: { id: string; generation: string }) {
  const [View, setView] = useState<typeof TerminalView | undefined>(undefined);
  useEffect(() => {
    void (terminalModule ??= import('./terminal-view.js').then((m) => m.TerminalView)).then((v) => setView(() => v));
  }, []);
  if (View) return html`<${View} ...${props} />`;
  return html`<div class="terminal-wrap"><div class="term-box"></div><div class="terminal-note connecting" role="status">loading…</div></div>`;
}
const RESTORABLE = new Set(['exited', 'killed', 'failed']);

type Note = { ok: string } | { error: ApiError } | undefined;

function errorOf(err: unknown): ApiError {
  return err instanceof ApiError ? err : new ApiError('INTERNAL', String(err));
}

function NoteLine({ note }: { note: Note }) {
  if (!note) return null;
  if ('ok' in note) return html`<p class="ok small" role="status">${note.ok}</p>`;
  return html`<p class="error small" role="alert">${note.error.message}${note.error.hint ? html`<br /><span class="dim">${note.error.hint}</span>` : null}</p>`;
}

function MessageBox({ id, disabled }: { id: string; disabled: boolean }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<Note>(undefined);
  const send = async (e?: Event): Promise<void> => {
    e?.preventDefault();
    if (!text) return;
    setBusy(true);
    setNote(undefined);
    try {
      const r = await api<{ bytes: number }>('POST', `${sessionPath(id)}/send`, { message: text });
      setText('');
      setNote({ ok: `sent (${r.bytes} bytes)` });
    } catch (err) {
      setNote({ error: errorOf(err) });
    } finally {
      setBusy(false);
    }
  };
  return html`
    <form class="message" onSubmit=${send}>
      <label for="message">Message</label>
      <textarea id="message" rows="3" value=${text} disabled=${disabled}
        placeholder="Type a message for the agent (Ctrl+Enter sends); several lines arrive as one message"
        onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}
        onKeyDown=${(e: KeyboardEvent) => e.key === 'Enter' && (e.ctrlKey || e.metaKey) && void send(e)}></textarea>
      <div class="actions">
        <button type="submit" class="primary" disabled=${disabled || busy || !text}>Send</button>
        <${NoteLine} note=${note} />
      </div>
    </form>
  `;
}

function Controls({ s }: { s: SessionJson }) {
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<Note>(undefined);
  const act = async (what: 'kill' | 'restore'): Promise<void> => {
    const question = what === 'kill'
      ? `Kill ${s.id}? The agent stops and its workspace is removed; the branch ${s.branch} and the record stay.`
      : `Restore ${s.id}? The agent is started again on ${s.branch}.`;
    if (!confirm(question)) return;
    setBusy(true);
    setNote(undefined);
    try {
      if (what === 'kill') await api('DELETE', sessionPath(s.id));
      else await api('POST', `${sessionPath(s.id)}/restore`);
      setNote({ ok: what === 'kill' ? 'killed' : 'restored' });
    } catch (err) {
      setNote({ error: errorOf(err) });
    } finally {
      setBusy(false);
    }
  };
  return html`
    <div class="controls">
      <button type="button" class="danger" disabled=${busy || s.status === 'killed' || s.status === 'spawning'} onClick=${() => void act('kill')}>Kill</button>
      <button type="button" disabled=${busy || !RESTORABLE.has(s.status)} onClick=${() => void act('restore')}>Restore</button>
      ${busy ? html`<span class="dim small">working…</span>` : null}
      <${NoteLine} note=${note} />
    </div>
  `;
}

const isUrl = (v: string): boolean => /^(https?|ssh):\/\//.test(v) || /^ssh /.test(v);

function Details({ s, info }: { s: SessionJson; info: SessionInfoJson | undefined }) {
  const rows: Array<[string, unknown]> = [
    ['Project', s.project], ['Host', `${s.host} (${s.backend})`], ['Agent', s.agent], ['Branch', html`<code>${s.branch}</code>`],
    ['Workspace', html`<code>${s.workspace_path}</code>`], ['Created', `${new Date(s.created_at).toLocaleString()} (${age(s.created_at)} ago)`],
  ];
  if (s.prompt) rows.push(['Prompt', s.prompt]);
  for (const [k, v] of Object.entries(info?.runtime_info ?? {})) {
    rows.push([k.replace(/_/g, ' '), /^https?:\/\//.test(v) ? html`<a href=${v} target="_blank" rel="noopener noreferrer">${v}</a>` : isUrl(v) ? html`<code>${v}</code>` : v]);
  }
  return html`<dl class="details">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}

function describe(e: EventJson): string {
  const d = e.detail;
  switch (e.type) {
    case 'message_sent':
      return `message sent (${String(d['bytes'])} bytes): ${String(d['preview'] ?? '')}`;
    case 'exited':
      return `exited (${String(d['observed'] ?? '')})`;
    case 'error':
      return `error during ${String(d['during'] ?? '?')}: ${String(d['message'] ?? '')}`;
    case 'activity': {
      const label = (a: unknown): string => (a === 'waiting_input' ? 'waiting for you' : String(a));
      return d['previous'] ? `${label(d['previous'])} → ${label(d['activity'])}` : label(d['activity']);
    }
    case 'spawned':
      return `spawned on ${String(d['host'] ?? '')} (${String(d['backend'] ?? '')}), branch ${String(d['branch'] ?? '')}`;
    default:
      return Object.keys(d).length ? `${e.type} ${JSON.stringify(d)}` : e.type;
  }
}

export function SessionPage({ id }: { id: string }) {
  const store = useLive();
  useTick(30_000);
  const s = store.sessions.get(id);
  const [info, setInfo] = useState<SessionInfoJson | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const liveEvents = store.events.filter((e) => e.session_id === id);
  const lastChange = liveEvents.filter((e) => e.type === 'restored' || e.type === 'spawned' || e.type === 'killed').pop()?.id ?? 0;

  // Facts that only the session's own answer has (share URLs, the last events); again after a restore or kill.
  useEffect(() => {
    void api<SessionInfoJson>('GET', sessionPath(id)).then(
      (r) => {
        setInfo(r);
        setError(undefined);
      },
      (err: unknown) => setError(errorOf(err)),
    );
  }, [id, lastChange]);

  const session = s ?? info;
  if (!session) {
    return html`<p><a href="/" onClick=${linkClick('/')}>← all sessions</a></p>${error ? html`<p class="error" role="alert">${error.message}</p>` : html`<p class="dim">Loading ${id}…</p>`}`;
  }
  const seen = new Set((info?.events ?? []).map((e) => e.id));
  const events = [...(info?.events ?? []), ...liveEvents.filter((e) => !seen.has(e.id))].slice(-20).reverse();
  const activity = activityOf(session);
  const terminalOn = HAS_TERMINAL.has(session.status);
  return html`
    <div class="session-page">
      <div class="session-head">
        <a href="/" onClick=${linkClick('/')}>← all sessions</a>
        <h1>${session.id}</h1>
        <span class=${`status ${session.status}`}>${session.status}</span>
        ${activity ? html`<span class=${`activity ${activity}`}>${activityLabel(session)}</span>` : null}
        ${session.unreachable ? html`<span class="warn" title=${session.unreachable}>host unreachable</span>` : null}
        <${Controls} s=${session} />
      </div>
      <div class="session-body">
        <div class="session-main">
          ${terminalOn
            ? html`<${LazyTerminal} id=${session.id} generation=${String(lastChange)} />`
            : html`<div class="terminal-off">No terminal: the session is ${session.status}.${RESTORABLE.has(session.status) ? ' Restore it to start the agent again.' : ''}</div>`}
          <${MessageBox} id=${session.id} disabled=${session.status !== 'running'} />
        </div>
        <aside class="side">
          <section class="panel"><h2>Details</h2><${Details} s=${session} info=${info} /></section>
          <section class="panel events" aria-label="Recent events">
            <h2>Recent events</h2>
            <ol>${events.map((e) => html`<li key=${e.id}><span class="dim small" title=${e.created_at}>${age(e.created_at)} ago</span> ${describe(e)}</li>`)}</ol>
          </section>
        </aside>
      </div>
    </div>
  `;
}
