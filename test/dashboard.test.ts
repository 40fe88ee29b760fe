/**
 * The dashboard in real Chromium against a real orchestrator, tmux and demo agent: live
 * overview, the terminal (output, typed keys), the message box, kill / restore / spawn,
 * and the sign-in and request rules that keep other sites out.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, demoProject, sha256, waitFor, type World } from './helpers/cli.js';
import { browserSkipReason, launchBrowser, loginUrl, signIn, useOrchestrator, waitForTerminal } from './helpers/browser.js';

/** A real browser, orchestrator and agents on a shared 2-core machine: generous, never a measure. */
const BROWSER_TEST_MS = 180_000;
const skip = browserSkipReason();
if (skip) console.log(`skipping dashboard tests: ${skip}`);

let w: World;
let browser: Browser;

interface Session { id: string; status: string; prompt: string | null; branch: string }
const sessions = (): Session[] => JSON.parse(w.run(['status', '--json']).stdout) as Session[];
const statusOf = (id: string): string | undefined => sessions().find((s) => s.id === id)?.status;

function spawnCli(args: string[] = []): Session {
  const res = w.run(['spawn', 'app', '--json', ...args]);
  if (res.code !== 0) throw new Error(`spawn failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as Session;
}

beforeAll(async () => {
  if (skip) return;
  w = createWorld();
  useOrchestrator(w);
  w.makeRepo();
  w.writeConfig(`port: 0\n${demoProject()}`);
  browser = await launchBrowser();
});

afterAll(async () => {
  if (skip) return;
  await browser?.close();
  w?.cleanup();
});

describe.skipIf(skip)('dashboard with a local session', { timeout: BROWSER_TEST_MS }, () => {
  it('shows a session spawned from the CLI without a reload, and its last line', async () => {
    const { page, context } = await signIn(browser, w);
    try {
      const s = spawnCli(['--prompt', 'hello from the cli']);
      const row = page.locator(`tr[data-session="${s.id}"]`);
      await row.waitFor();
      await expect.poll(() => row.locator('.status').textContent(), { timeout: 20_000 }).toBe('running');
      expect(await row.textContent()).toContain(s.branch);
      // The last line comes from the agent's screen, pushed by the orchestrator.
      await expect.poll(() => row.locator('.last-line').textContent(), { timeout: 20_000 }).toContain('demo-agent');
      const group = page.getByRole('region', { name: 'app on local' });
      expect(await group.locator('tr[data-session]').count()).toBeGreaterThan(0);
      expect(await page.getByRole('region', { name: 'Hosts' }).textContent()).toContain('local');
    } finally {
      await context.close();
    }
  });

  it('streams the terminal, takes typed keys and a multi-line message from the box', async () => {
    const s = spawnCli();
    const { page, context } = await signIn(browser, w);
    try {
      await page.locator(`tr[data-session="${s.id}"] a`).click();
      await page.waitForURL((u) => u.pathname === `/s/${s.id}`);
      await waitForTerminal(page, 'demo-agent ready');

      await page.getByLabel(`Terminal of ${s.id}`).click();
      await page.keyboard.type('typed in the browser');
      await page.keyboard.press('Enter');
      await waitForTerminal(page, `sha256 ${sha256('typed in the browser')}`);
      // What the browser shows is what the pane holds.
      await waitFor(() => w.run(['logs', s.id, '-n', '200']).stdout.includes('you> typed in the browser'), 'the keys in the pane');

      const message = 'first line from the box\nsecond line; $(not a command) `neither`';
      await page.getByRole('textbox', { name: 'Message' }).fill(message);
      await page.getByRole('button', { name: 'Send' }).click();
      await waitForTerminal(page, `2 line(s), sha256 ${sha256(message)}`);
      await expect.poll(() => page.getByRole('textbox', { name: 'Message' }).inputValue()).toBe('');
    } finally {
      await context.close();
    }
  });

  it('kills and restores a session after confirmation, and spawns one from the form', async () => {
    const s = spawnCli();
    const { page, context } = await signIn(browser, w);
    try {
      await page.goto(new URL(`/s/${s.id}`, page.url()).href);
      await waitForTerminal(page, 'demo-agent ready');

      // Declining the confirmation changes nothing.
      page.once('dialog', (d) => void d.dismiss());
      await page.getByRole('button', { name: 'Kill' }).click();
      expect(statusOf(s.id)).toBe('running');

      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: 'Kill' }).click();
      await page.locator('.session-head .status', { hasText: 'killed' }).waitFor();
      expect(statusOf(s.id)).toBe('killed');
      await page.getByText('No terminal: the session is killed').waitFor();

      page.once('dialog', (d) => void d.accept());
      await page.getByRole('button', { name: 'Restore' }).click();
      await page.locator('.session-head .status', { hasText: 'running' }).waitFor();
      expect(statusOf(s.id)).toBe('running');
      await waitForTerminal(page, 'demo-agent ready');

      await page.getByRole('link', { name: '← all sessions' }).click();
      await page.getByRole('textbox', { name: 'Prompt' }).fill('spawned from the form');
      await page.getByRole('textbox', { name: 'Branch' }).fill('from-the-form');
      await page.getByRole('button', { name: 'Spawn' }).click();
      const spawned = await waitFor(() => sessions().find((x) => x.branch === 'from-the-form'), 'the spawned session');
      expect(spawned.prompt).toBe('spawned from the form');
      await page.locator(`tr[data-session="${spawned.id}"]`).waitFor();
      await page.getByRole('status').filter({ hasText: `Spawned ${spawned.id}` }).waitFor();
    } finally {
      await context.close();
    }
  });
});

describe.skipIf(skip)('dashboard sign-in and request rules', { timeout: BROWSER_TEST_MS }, () => {
  it('trades a one-time link for an HttpOnly, SameSite=Strict cookie and a clean URL', async () => {
    const url = loginUrl(w);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForURL((u) => u.pathname === '/');
      expect(page.url()).not.toContain('token');
      const cookie = (await context.cookies()).find((c) => c.name === 'ennio_session');
      expect(cookie?.httpOnly).toBe(true);
      expect(cookie?.sameSite).toBe('Strict');
      // The page itself holds no secret: neither the login token nor the API token.
      const html = await (await page.request.get(new URL('/', url).href)).text();
      expect(html).not.toContain(new URL(url).hash.slice('#token='.length));
      const apiToken = (await import('node:fs')).readFileSync(`${w.home}/api-token`, 'utf8').trim();
      expect(html).not.toContain(apiToken);
      expect(await (await page.request.get(new URL('/assets/app.js', url).href)).text()).not.toContain(apiToken);

      // The same link again: refused, and that browser is not signed in.
      const other = await browser.newContext();
      const again = await other.newPage();
      await again.goto(url);
      await again.getByText('used already or has expired').waitFor();
      expect((await other.cookies()).find((c) => c.name === 'ennio_session')).toBeUndefined();
      await other.close();
    } finally {
      await context.close();
    }
  });

  it('refuses requests without a sign-in, and cross-origin changes with one', async () => {
    const { page, context, origin } = await signIn(browser, w);
    try {
      const noCookie = await fetch(`${origin}/api/v1/sessions`);
      expect(noCookie.status).toBe(401);
      const page0 = await fetch(`${origin}/`, { redirect: 'manual' });
      expect(page0.status).toBe(303);
      expect(page0.headers.get('location')).toBe('/login');
      // A GET with a login token in the query changes nothing (tokens are redeemed by POST only).
      const token = new URL(loginUrl(w)).hash.slice('#token='.length);
      const viaGet = await fetch(`${origin}/login?token=${token}`, { redirect: 'manual' });
      expect(viaGet.headers.get('set-cookie')).toBeNull();

      const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
      const listed = await fetch(`${origin}/api/v1/sessions`, { headers: { cookie } });
      expect(listed.status).toBe(200);
      const foreign = await fetch(`${origin}/api/v1/sessions`, {
        method: 'POST', headers: { cookie, origin: 'http://evil.example', 'content-type': 'application/json' }, body: JSON.stringify({ project: 'app' }),
      });
      expect(foreign.status).toBe(403);
      expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
      const noOrigin = await fetch(`${origin}/api/v1/cleanup`, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: '{}' });
      expect(noOrigin.status).toBe(403);

      // A WebSocket from another origin is refused before any terminal opens.
      const s = sessions().find((x) => x.status === 'running');
      expect(s).toBeDefined();
      const refused = await page.evaluate(async ({ url }) => {
        return new Promise<string>((resolve) => {
          const ws = new WebSocket(url);
          ws.onopen = () => resolve('open');
          ws.onerror = () => resolve('refused');
        });
      }, { url: `${origin.replace('http', 'ws')}/api/v1/sessions/${s!.id}/terminal` });
      expect(refused).toBe('open'); // same origin, signed in: allowed
      const { WebSocket: NodeWebSocket } = await import('ws');
      const crossSite = await new Promise<number>((resolve) => {
        const ws = new NodeWebSocket(`${origin.replace('http', 'ws')}/api/v1/sessions/${s!.id}/terminal`, { headers: { cookie, origin: 'http://evil.example' } });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
      });
      expect(crossSite).toBe(403);
    } finally {
      await context.close();
    }
  });
});
