/**
 * The dashboard with remote sessions on a loopback sshd: the terminal is streamed from
 * the remote tmux over an SSH exec channel (strategy tmux) or from the daemon's tmux
 * (strategy node); keys and messages reach the agent; the hosts panel shows the host.
 */
import { spawnSync } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, waitFor } from './helpers/cli.js';
import { browserSkipReason, launchBrowser, signIn, useOrchestrator, waitForTerminal } from './helpers/browser.js';
import { createRemoteWorld, type RemoteWorld } from './helpers/remote-world.js';
import { freePort, sshdSkipReason } from './helpers/sshd.js';

/** A real browser, orchestrator and agents on a shared 2-core machine: generous, never a measure. */
const BROWSER_TEST_MS = 180_000;
const skip = browserSkipReason() ?? sshdSkipReason();
if (skip) console.log(`skipping remote dashboard tests: ${skip}`);

let w: RemoteWorld;
let browser: Browser;
let nodePort = 0;

function spawnCli(project: string): { id: string; host: string } {
  const res = w.run(['spawn', project, '--json']);
  if (res.code !== 0) throw new Error(`spawn ${project} failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as { id: string; host: string };
}

beforeAll(async () => {
  if (skip) return;
  w = await createRemoteWorld();
  useOrchestrator(w);
  nodePort = await freePort();
  w.writeConfig(['port: 0', 'projects:', w.project('rtmux', 'tmux'), w.project('rnode', 'node', `      node_config: { port: ${nodePort}, idle_timeout: 600 }`), ''].join('\n'));
  browser = await launchBrowser();
});

afterAll(async () => {
  if (skip) return;
  await browser?.close();
  w.run(['node', 'disconnect', 'rnode', '--shutdown']);
  // The "remote" is this machine: no daemon of this run may outlive it.
  spawnSync('pkill', ['-f', `ennio-node.cjs --port ${nodePort} `]);
  await w?.stop();
});

describe.skipIf(skip)('dashboard with remote sessions', { timeout: BROWSER_TEST_MS }, () => {
  for (const project of ['rtmux', 'rnode']) {
    it(`${project}: streams the remote terminal, takes typed keys and a multi-line message`, async () => {
      const s = spawnCli(project);
      const { page, context } = await signIn(browser, w);
      try {
        await page.locator(`tr[data-session="${s.id}"] a`).click();
        await waitForTerminal(page, 'demo-agent ready');

        await page.getByLabel(`Terminal of ${s.id}`).click();
        await page.keyboard.type(`typed into ${project}`);
        await page.keyboard.press('Enter');
        await waitForTerminal(page, `sha256 ${sha256(`typed into ${project}`)}`);

        const message = `from the box\nto ${project} é中`;
        await page.getByRole('textbox', { name: 'Message' }).fill(message);
        await page.getByRole('button', { name: 'Send' }).click();
        await waitForTerminal(page, `2 line(s), sha256 ${sha256(message)}`);
        await waitFor(() => w.run(['logs', s.id, '-n', '200']).stdout.includes(sha256(message)), 'the answer in the remote pane');

        await page.getByRole('link', { name: '← all sessions' }).click();
        const hosts = page.getByRole('region', { name: 'Hosts' });
        await expect.poll(() => hosts.textContent(), { timeout: 30_000 }).toMatch(/127\.0\.0\.1.*\d+(\.\d+)? ms/);
        if (project === 'rnode') await expect.poll(() => hosts.textContent(), { timeout: 30_000 }).toContain('ennio-node');
      } finally {
        await context.close();
      }
    });
  }
});
