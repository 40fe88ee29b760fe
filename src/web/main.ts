/** The dashboard: one live store, two pages. */
import '@xterm/xterm/css/xterm.css';
import './style.css';
import { html } from 'htm/preact';
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import { waitingForYou } from './format.js';
import { live, useLive } from './live.js';
import { OverviewPage } from './overview.js';
import { signIn } from './login.js';
import { linkClick, useRoute } from './router.js';
import { SessionPage } from './session-page.js';

function App() {
  const store = useLive();
  const route = useRoute();
  const waiting = [...store.sessions.values()].filter(waitingForYou).length;
  useEffect(() => {
    const where = route.page === 'session' ? `${route.id} · ` : '';
    document.title = `${waiting > 0 ? `(${waiting}) ` : ''}${where}Ennio`;
  }, [waiting, route]);
  return html`
    <header class="top">
      <a class="brand" href="/" onClick=${linkClick('/')}>Ennio</a>
      ${waiting > 0 ? html`<span class="badge waiting" title="sessions waiting for you">${waiting} waiting for you</span>` : null}
      <span class=${`conn ${store.connected ? 'on' : 'off'}`} role="status">${store.connected ? 'live' : 'reconnecting…'}</span>
    </header>
    <main>${route.page === 'session' ? html`<${SessionPage} id=${route.id} />` : html`<${OverviewPage} />`}</main>
  `;
}

// One page for both: /login signs in (and must not open the event stream yet), the rest is the app.
if (location.pathname === '/login') {
  signIn(document.getElementById('app')!);
} else {
  live.start();
  (window as unknown as { ennioLive?: typeof live }).ennioLive = live; // for tests and benches
  render(html`<${App} />`, document.getElementById('app')!);
}
