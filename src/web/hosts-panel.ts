/** Hosts the config's projects run on: reachable, SSH round trip, ennio-node version and uptime. */
import { html } from 'htm/preact';
import type { HostJson } from '../api/contract.js';
import { uptime } from './format.js';

function nodeFacts(h: HostJson): string {
  if (!h.node) return '';
  if (h.node === 'running') return `ennio-node ${h.node_version ?? '?'}${h.node_uptime_s !== undefined ? `, up ${uptime(h.node_uptime_s)}` : ''}`;
  return `ennio-node ${h.node}`;
}

export function HostsPanel({ hosts }: { hosts: HostJson[] | undefined }) {
  return html`
    <section class="panel hosts" aria-label="Hosts">
      <h2>Hosts</h2>
      ${hosts === undefined
        ? html`<p class="dim">Checking hosts…</p>`
        : html`<ul>
            ${hosts.map(
              (h) => html`<li key=${`${h.host}\0${h.backend}`} class=${h.reachable ? 'up' : 'down'}>
                <div class="host-line">
                  <span class=${`dot ${h.reachable ? 'up' : 'down'}`} aria-hidden="true"></span>
                  <strong title=${h.host}>${h.host}</strong>
                  <span class="rtt">${h.reachable ? (h.rtt_ms !== null ? `${h.rtt_ms} ms` : 'this machine') : 'unreachable'}</span>
                </div>
                <div class="dim small"><span class="tag">${h.backend}</span> ${h.projects.join(', ')}${nodeFacts(h) ? ` · ${nodeFacts(h)}` : ''}</div>
                ${h.detail ? html`<div class="warn small">${h.detail}</div>` : null}
              </li>`,
            )}
          </ul>`}
    </section>
  `;
}
