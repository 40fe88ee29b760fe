/**
 * The dashboard in real Chromium, `npx tsx bench/dashboard-bench.ts [keystrokes]`:
 *
 * - keystroke → echo in the browser terminal, for a local session and a remote tmux
 *   session on a loopback sshd: from xterm.js taking the key (term.input, the path a key
 *   press takes after the DOM event) through the WebSocket, the orchestrator, tmux
 *   control mode and the pane's tty echo (`cat`), back to the character drawn in xterm;
 * - the overview with 1,000 sessions (synthetic records written into the store the
 *   orchestrator reads): from navigation to 1,000 rows drawn;
 * - the same page while 1,000 session changes a second arrive over the event stream:
 *   event-loop delay measured in the page, long tasks, and whether the rows caught up.
 *
 * Starts its own orchestrator, sshd, tmux server and browser; removes everything at the end.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openStore } from '../src/store/db.js';
import { DEMO_AGENT } from '../test/helpers/cli.js';
import { browserSkipReason, launchBrowser, signIn, useOrchestrator } from '../test/helpers/browser.js';
import { createRemoteWorld, type RemoteWorld } from '../test/helpers/remote-world.js';
import { sshdSkipReason } from '../test/helpers/sshd.js';
import { ms, printTable, stats } from './lib.js';

const KEYSTROKES = Number(process.argv[2] ?? 200);
const SYNTHETIC = 1000;
const CHANGE_SECONDS = 5;
const RENDER_RUNS = 7;

/** Median/p90 of keystroke → echo, measured inside the page. */
async function echoLatency(page: Page, n: number): Promise<number[]> {
  return page.evaluate(async (count) => {
    type Term = {
      input(data: string, wasUserInput?: boolean): void;
      onWriteParsed(cb: () => void): { dispose(): void };
      buffer: { active: { cursorY: number; baseY: number; getLine(i: number): { translateToString(trim: boolean): string } | undefined } };
    };
    const term = (window as unknown as { ennioTerminal: Term }).ennioTerminal;
    const line = (above = 0): string => {
      const b = term.buffer.active;
      return b.getLine(b.baseY + b.cursorY - above)?.translateToString(true) ?? '';
    };
    const until = (check: () => boolean, what: string): Promise<void> =>
      new Promise((resolve, reject) => {
        if (check()) return resolve();
        const timer = setTimeout(() => reject(new Error(`no echo of ${what}; the cursor line is ${JSON.stringify(line())}`)), 10_000);
        const d = term.onWriteParsed(() => {
          if (check()) {
            clearTimeout(timer);
            d.dispose();
            resolve();
          }
        });
      });
    const samples: number[] = [];
    let typed = '';
    for (let i = 0; i < count; i++) {
      if (typed.length >= 40) {
        term.input('\r', true);
        const sent = typed;
        // The tty echoes the line and its newline, then `cat` writes the line again: wait for both copies.
        await until(() => line() === '' && line(1).endsWith(sent) && line(2).endsWith(sent), 'Enter');
        typed = '';
      }
      const ch = String.fromCharCode(97 + (i % 26));
      typed += ch;
      const t0 = performance.now();
      term.input(ch, true);
      await until(() => line().endsWith(typed), typed);
      samples.push(performance.now() - t0);
    }
    return samples;
  }, n);
}

async function measureEcho(page: Page, origin: string, id: string): Promise<{ median: number; p90: number }> {
  await page.goto(`${origin}/s/${id}`);
  await page.getByRole('status').filter({ hasText: 'live' }).waitFor();
  await page.locator('.term-box').waitFor();
  await page.locator('.terminal-note').waitFor({ state: 'detached' }); // connected: the first screen is drawn
  await echoLatency(page, 20); // warm-up: connections, JIT
  return stats(await echoLatency(page, KEYSTROKES));
}

async function main(): Promise<void> {
  const skip = browserSkipReason() ?? sshdSkipReason();
  if (skip) return console.log(`dashboard bench skipped: ${skip}`);
  let w: RemoteWorld | undefined;
  const browser = await launchBrowser();
  try {
    w = await createRemoteWorld();
    useOrchestrator(w);
    // `cat` in a pane: the tty echoes each key at once, so the time measured is the dashboard's path.
    const remote = w.project('remote', 'tmux').replace(JSON.stringify(`node ${DEMO_AGENT}`), '"cat"');
    w.writeConfig(['port: 0', 'projects:', '  - name: local', `    path: ${join(w.dir, 'repo')}`, '    agent: custom', '    agent_config: { command: cat }', remote, ''].join('\n'));
    const spawn = (project: string): string => {
      const res = w!.run(['spawn', project, '--json']);
      if (res.code !== 0) throw new Error(`spawn ${project}: ${res.stderr}`);
      return (JSON.parse(res.stdout) as { id: string }).id;
    };
    const local = spawn('local');
    const remoteId = spawn('remote');
    const { page, context, origin } = await signIn(browser, w);
    // tsx names functions with a __name helper that the page does not have.
    const NAME_SHIM = 'window.__name = (f) => f';
    await context.addInitScript(NAME_SHIM);
    const localEcho = await measureEcho(page, origin, local);
    const remoteEcho = await measureEcho(page, origin, remoteId);

    // 1,000 sessions in the store the orchestrator reads (not running: no tmux behind them).
    const store = openStore(w.home);
    const statuses = ['exited', 'killed', 'failed'] as const;
    const ids: string[] = [];
    for (let i = 0; i < SYNTHETIC; i++) {
      const id = `syn-${String(i).padStart(4, '0')}`;
      ids.push(id);
      const project = i % 2 ? 'local' : 'remote';
      store.sessions.insert({
        id, project, status: statuses[i % 3]!, agent: 'custom', runtime_name: 'tmux', backend: project === 'local' ? 'local' : 'ssh:tmux',
        host: project === 'local' ? 'local' : 'root@127.0.0.1', branch: `ennio/${id}`, workspace_path: `/nowhere/${id}`, workspace_type: 'worktree', repo_path: '/nowhere',
      });
    }
    // Measured from the moment the orchestrator knows them (its sweep reads the store).
    while ((JSON.parse(w.run(['status', '--json']).stdout) as unknown[]).length < SYNTHETIC) await new Promise((r) => setTimeout(r, 200));
    const overview = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await overview.context().addCookies(await context.cookies());
    await overview.context().addInitScript(NAME_SHIM);
    // When the snapshot of 1,000 sessions arrived: the page's own share of the time starts there.
    await overview.context().addInitScript(`(() => { const ES = window.EventSource; window.EventSource = class extends ES { constructor(u) { super(u); this.addEventListener('sessions', () => (window.snapshotAt ??= performance.now())); } }; })()`);
    const loads: number[] = [];
    const renders: number[] = [];
    for (let i = 0; i < RENDER_RUNS; i++) {
      await overview.goto(`${origin}/`);
      // Drawn: every group counted (1,000 sessions in the page) and the rows in view are there.
      await overview.waitForFunction(
        (n) => [...document.querySelectorAll('.group:not(.waiting-group) h2 .count')].reduce((sum, c) => sum + Number(c.textContent), 0) >= n && document.querySelector('tr[data-session]') !== null,
        SYNTHETIC, { polling: 'raf', timeout: 60_000 },
      );
      const [drawnAt, snapshotAt] = await overview.evaluate(() => [performance.now(), (window as unknown as { snapshotAt: number }).snapshotAt]);
      loads.push(drawnAt!);
      renders.push(drawnAt! - snapshotAt!);
    }
    const load = stats(loads);
    const render = stats(renders);

    // Changes while the page is open: 100 sessions every 100 ms, each with its event.
    await overview.evaluate(() => {
      const w = window as unknown as { lags: number[]; longTasks: number };
      w.lags = [];
      w.longTasks = 0;
      new PerformanceObserver((l) => (w.longTasks += l.getEntries().length)).observe({ type: 'longtask' });
      // How long a task queued now waits to run, every 50 ms: what a click would wait.
      const sample = (): void => {
        const t0 = performance.now();
        setTimeout(() => {
          w.lags.push(performance.now() - t0);
          setTimeout(sample, 50);
        }, 0);
      };
      sample();
    });
    let changes = 0;
    const until = Date.now() + CHANGE_SECONDS * 1000;
    const last = new Map<string, string>();
    while (Date.now() < until) {
      for (let k = 0; k < 100; k++) {
        const id = ids[Math.floor(Math.random() * ids.length)]!;
        const status = statuses[Math.floor(Math.random() * 3)]!;
        store.sessions.update(id, { status });
        store.events.append(id, 'status', { status, bench: true });
        last.set(id, status);
        changes++;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const caughtUpAt = performance.now();
    // Caught up: the page's data holds every last status, and each row in view shows its own.
    await overview.waitForFunction(
      (pairs) => {
        const live = (window as unknown as { ennioLive: { sessions: Map<string, { status: string }> } }).ennioLive;
        const rowsOk = [...document.querySelectorAll('tr[data-session]')].every((tr) => tr.querySelector('.status')?.textContent === live.sessions.get(tr.getAttribute('data-session')!)?.status);
        return rowsOk && pairs.every(([id, status]) => live.sessions.get(id)?.status === status);
      },
      [...last.entries()], { polling: 'raf', timeout: 60_000 },
    );
    const catchUpMs = performance.now() - caughtUpAt;
    const during = await overview.evaluate(() => {
      const w = window as unknown as { lags: number[]; longTasks: number };
      return { lags: w.lags, longTasks: w.longTasks };
    });
    const lag = stats(during.lags);
    store.close();
    await overview.close();
    await context.close();

    console.log(`(load average on this machine while measuring: ${loadavg().map((l) => l.toFixed(1)).join(', ')}; wall-clock times grow with it)`);
    printTable([
      ['measure', 'median', 'p90', 'target'],
      [`keystroke → echo, local session (${KEYSTROKES} keys)`, ms(localEcho.median), ms(localEcho.p90), '≤ 30 ms median'],
      [`keystroke → echo, remote tmux session over SSH (${KEYSTROKES} keys)`, ms(remoteEcho.median), ms(remoteEcho.p90), '≤ 50 ms median'],
      [`overview with ${SYNTHETIC} sessions: navigation → drawn (all counted, rows in view; ${RENDER_RUNS} loads)`, ms(load.median), ms(load.p90), '≤ 1 s'],
      ['  of which: the snapshot of sessions received → drawn', ms(render.median), ms(render.p90), ''],
      [`page event-loop delay during ${changes} changes in ${CHANGE_SECONDS} s`, ms(lag.median), ms(lag.p90), 'stays responsive'],
      [`long tasks (> 50 ms) during those changes`, String(during.longTasks), '', ''],
      ['rows caught up after the last change', ms(catchUpMs), '', ''],
    ]);
  } finally {
    await browser.close();
    await w?.stop();
  }
}

await main();
