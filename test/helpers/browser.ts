/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core, signed in
 * with the one-time link `ennio dashboard` prints for a test world.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { World } from './cli.js';

export const CHROMIUM = process.env['ENNIO_CHROMIUM'] ?? '/usr/bin/chromium';

/** Why browser tests cannot run here (printed, then skipped), or undefined. */
export function browserSkipReason(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (apt-get install chromium)`;
}

export function launchBrowser(): Promise<Browser> {
  // Root (CI containers) needs --no-sandbox.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** A world whose CLI commands go through the orchestrator (the dashboard is the orchestrator's). */
export function useOrchestrator(w: World): void {
  delete w.env['ENNIO_NO_SERVER'];
}

/** The one-time login URL from `ennio dashboard --json --no-open`. */
export function loginUrl(w: World): string {
  const res = w.run(['dashboard', '--json', '--no-open']);
  if (res.code !== 0) throw new Error(`ennio dashboard failed (${res.code}): ${res.stderr}`);
  return (JSON.parse(res.stdout) as { url: string }).url;
}

export interface SignedIn {
  context: BrowserContext;
  page: Page;
  /** http://127.0.0.1:PORT */
  origin: string;
}

export async function signIn(browser: Browser, w: World, viewport = { width: 1400, height: 900 }): Promise<SignedIn> {
  const url = loginUrl(w);
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForURL((u) => u.pathname === '/');
  await page.getByRole('status').filter({ hasText: 'live' }).waitFor();
  return { context, page, origin: new URL(url).origin };
}

/** The text in the page's xterm.js terminal: scrollback and screen, one line per row. */
export function terminalText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const term = (window as unknown as { ennioTerminal?: { buffer: { active: { length: number; getLine(i: number): { translateToString(trim: boolean): string } | undefined } } } }).ennioTerminal;
    if (!term) return '';
    const b = term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? '');
    return lines.join('\n');
  });
}

/** Poll the terminal until it shows `text` (the page streams; nothing to reload). */
export async function waitForTerminal(page: Page, text: string | RegExp, limitMs = 30_000): Promise<string> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const screen = await terminalText(page);
    if (typeof text === 'string' ? screen.includes(text) : text.test(screen)) return screen;
    if (Date.now() > deadline) throw new Error(`the browser terminal did not show ${String(text)}; it shows:\n${screen}`);
    await page.waitForTimeout(100);
  }
}
