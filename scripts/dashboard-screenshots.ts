/**
 * The README's dashboard screenshots, `npx tsx scripts/dashboard-screenshots.ts`: a few
 * demo-agent sessions, local and on a loopback sshd, then docs/dashboard-overview.png
 * (light) and docs/dashboard-session.png (dark) from real Chromium. Everything it starts
 * is removed at the end.
 */
import { join, resolve } from 'node:path';
import { DEMO_AGENT, waitFor } from '../test/helpers/cli.js';
import { browserSkipReason, launchBrowser, loginUrl, useOrchestrator, waitForTerminal } from '../test/helpers/browser.js';
import { createRemoteWorld, type RemoteWorld } from '../test/helpers/remote-world.js';
import { sshdSkipReason } from '../test/helpers/sshd.js';

const DOCS = resolve(import.meta.dirname, '../docs');

async function main(): Promise<void> {
  const skip = browserSkipReason() ?? sshdSkipReason();
  if (skip) throw new Error(`cannot take screenshots here: ${skip}`);
  let w: RemoteWorld | undefined;
  const browser = await launchBrowser();
  try {
    w = await createRemoteWorld();
    useOrchestrator(w);
    const world = w;
    world.writeConfig([
      'port: 0', 'projects:',
      '  - name: webapp', `    path: ${join(world.dir, 'repo')}`, '    agent: custom', `    agent_config: { command: ${JSON.stringify(`node ${DEMO_AGENT}`)} }`,
      '    post_create:', '      - git config user.name t && git config user.email t@t.invalid',
      world.project('api', 'tmux'), '',
    ].join('\n'));
    const spawn = (project: string, prompt: string, branch?: string): string => {
      const res = world.run(['spawn', project, '--json', '--prompt', prompt, ...(branch ? ['--branch', branch] : [])]);
      if (res.code !== 0) throw new Error(`spawn ${project}: ${res.stderr}`);
      return (JSON.parse(res.stdout) as { id: string }).id;
    };
    const main = spawn('webapp', 'Add a dark mode toggle to the settings page', 'feat/dark-mode');
    spawn('webapp', 'Fix the flaky login test', 'fix/flaky-login');
    const killed = spawn('webapp', 'Try the new bundler', 'spike/bundler');
    spawn('api', 'Paginate GET /orders', 'feat/orders-pagination');
    spawn('api', 'Upgrade the database driver', 'chore/db-driver');
    world.run(['send', main, 'Also keep the choice in localStorage.\nAnd add a test for it.']);
    world.run(['session', 'kill', killed]);
    await waitFor(() => world.run(['logs', main, '-n', '100']).stdout.includes('message #2'), 'the answer');

    const light = await browser.newContext({ viewport: { width: 1440, height: 760 }, colorScheme: 'light', deviceScaleFactor: 1 });
    const page = await light.newPage();
    await page.goto(loginUrl(world));
    await page.waitForURL((u) => u.pathname === '/');
    await page.locator('.hosts .rtt', { hasText: /\d ms/ }).waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('.last-line')].filter((td) => td.textContent?.includes('demo-agent')).length >= 4);
    await page.screenshot({ path: join(DOCS, 'dashboard-overview.png') });

    const dark = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark', deviceScaleFactor: 1 });
    const session = await dark.newPage();
    await session.goto(loginUrl(world));
    await session.waitForURL((u) => u.pathname === '/');
    await session.goto(new URL(`/s/${main}`, session.url()).href);
    await waitForTerminal(session, 'message #2');
    await session.getByRole('textbox', { name: 'Message' }).fill('Ship it when the tests pass.');
    await session.screenshot({ path: join(DOCS, 'dashboard-session.png') });
    console.log(`wrote ${join(DOCS, 'dashboard-overview.png')} and ${join(DOCS, 'dashboard-session.png')}`);
  } finally {
    await browser.close();
    await w?.stop();
  }
}

await main();
