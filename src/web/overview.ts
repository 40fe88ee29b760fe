/**
 * The overview: every session grouped by project and host, the ones waiting for you on
 * top; the hosts panel and the spawn form beside them. Only the rows in view are in the
 * DOM, and a row re-renders only when its session or its last line changed, so 1,000
 * sessions stay cheap to draw and to update.
 */
import { html } from 'htm/preact';
import { Component } from 'preact';
import { useRef } from 'preact/hooks';
import type { SessionJson } from '../api/contract.js';
import { activityLabel, activityOf, age, waitingForYou } from './format.js';
import { HostsPanel } from './hosts-panel.js';
import { useLive, useTick } from './live.js';
import { linkClick, sessionHref } from './router.js';
import { SpawnForm } from './spawn-form.js';
import { useVisibleRows } from './visible-rows.js';

interface RowProps {
  s: SessionJson;
  line: string | undefined;
  now: number;
  /** aria-rowindex: the row's place in the whole list, most rows not being in the DOM. */
  index: number;
  /** Show the activity column (once the orchestrator reports activity at all). */
  activity: boolean;
}

class SessionRow extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps): boolean {
    const p = this.props;
    return next.s !== p.s || next.line !== p.line || next.index !== p.index || next.activity !== p.activity || (next.now !== p.now && age(next.s.created_at, next.now) !== age(p.s.created_at, p.now));
  }

  override render({ s, line, now, index, activity: showActivity }: RowProps) {
    const activity = activityOf(s);
    return html`
      <tr class=${waitingForYou(s) ? 'row waiting' : 'row'} data-session=${s.id} aria-rowindex=${index}>
        <td><a href=${sessionHref(s.id)} onClick=${linkClick(sessionHref(s.id))}>${s.id}</a></td>
        <td><span class=${`status ${s.status}`}>${s.status}</span>${s.unreachable ? html` <span class="warn" title=${s.unreachable}>unreachable</span>` : null}</td>
        ${showActivity ? html`<td>${activity ? html`<span class=${`activity ${activity}`}>${activityLabel(s)}</span>` : html`<span class="dim">—</span>`}</td>` : null}
        <td class="mono">${s.branch}</td>
        <td>${s.agent}</td>
        <td title=${s.created_at}>${age(s.created_at, now)}</td>
        <td class="mono last-line" title=${line ?? ''}>${line ?? ''}</td>
      </tr>
    `;
  }
}

/** Matches `tr.row` in style.css. */
const ROW_HEIGHT = 32;

interface TableProps {
  sessions: SessionJson[];
  previews: Map<string, string>;
  now: number;
  activity: boolean;
}

function SessionTable({ sessions, previews, now, activity }: TableProps) {
  const body = useRef<HTMLTableSectionElement>(null);
  const { start, end } = useVisibleRows(body, sessions.length, ROW_HEIGHT);
  return html`
    <table class="sessions" aria-rowcount=${sessions.length + 1}>
      <thead><tr aria-rowindex="1">
        <th>Session</th><th class="c-status">Status</th>${activity ? html`<th class="c-activity">Activity</th>` : null}<th class="c-branch">Branch</th>
        <th class="c-agent">Agent</th><th class="c-age">Age</th><th>Last line</th>
      </tr></thead>
      <tbody ref=${body}>
        ${start > 0 ? html`<tr class="spacer" aria-hidden="true" style=${`height:${start * ROW_HEIGHT}px`}></tr>` : null}
        ${sessions.slice(start, end).map((s, i) => html`<${SessionRow} key=${s.id} s=${s} line=${previews.get(s.id)} now=${now} index=${start + i + 2} activity=${activity} />`)}
        ${end < sessions.length ? html`<tr class="spacer" aria-hidden="true" style=${`height:${(sessions.length - end) * ROW_HEIGHT}px`}></tr>` : null}
      </tbody>
    </table>
  `;
}

const STATUS_ORDER: Record<string, number> = { running: 0, spawning: 1, exited: 2, failed: 3, killed: 4 };

/** Running first, newest first; plain comparisons (localeCompare is slow over 1,000 rows many times a second). */
function bySessionOrder(a: SessionJson, b: SessionJson): number {
  return (STATUS_ORDER[a.status] ?? 9) - (STATUS_ORDER[b.status] ?? 9) || (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id < b.id ? -1 : 1);
}

export function OverviewPage() {
  const store = useLive();
  const now = useTick(15_000);
  const all = [...store.sessions.values()];
  const waiting = all.filter(waitingForYou).sort(bySessionOrder);
  const activity = all.some((s) => activityOf(s) !== undefined);
  const groups = new Map<string, { project: string; host: string; backend: string; sessions: SessionJson[] }>();
  for (const s of all) {
    const key = `${s.project}\0${s.host}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { project: s.project, host: s.host, backend: s.backend, sessions: [] }));
    g.sessions.push(s);
  }
  const ordered = [...groups.values()].sort((a, b) => a.project.localeCompare(b.project) || a.host.localeCompare(b.host));
  return html`
    <div class="overview">
      <section class="sessions-column" aria-label="Sessions">
        ${waiting.length > 0
          ? html`<section class="group waiting-group" aria-label="Waiting for you">
              <h2>Waiting for you <span class="count">${waiting.length}</span></h2>
              <${SessionTable} sessions=${waiting} previews=${store.previews} now=${now} activity=${activity} />
            </section>`
          : null}
        ${!store.loaded ? html`<p class="dim">Loading sessions…</p>` : null}
        ${store.loaded && all.length === 0 ? html`<p class="empty">No sessions yet. Spawn one with the form, or <code>ennio spawn &lt;project&gt;</code>.</p>` : null}
        ${ordered.map(
          (g) => html`<section class="group" key=${`${g.project}\0${g.host}`} aria-label=${`${g.project} on ${g.host}`}>
            <h2>${g.project} <span class="dim">on</span> ${g.host} <span class="tag">${g.backend}</span> <span class="count">${g.sessions.length}</span></h2>
            <${SessionTable} sessions=${g.sessions.sort(bySessionOrder)} previews=${store.previews} now=${now} activity=${activity} />
          </section>`,
        )}
      </section>
      <aside class="side">
        <${SpawnForm} />
        <${HostsPanel} hosts=${store.hosts} />
      </aside>
    </div>
  `;
}
