/**
 * `ennio dashboard`: the web dashboard is served by the orchestrator on `port`. This
 * starts one if needed, asks it (over the 0600 Unix socket) for a one-time login link
 * bound to this shell's config and environment, prints it, and on a desktop opens it.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ennioHome } from '../core/home.js';
import type { Command } from 'commander';
import type { DashboardLogin } from '../api/contract.js';
import { EnnioError } from '../core/errors.js';
import { noServerWanted, withServer } from './api-link.js';
import type { GlobalOptions } from './context.js';
import { printJson } from './output.js';

/** A login link for the caller `g` describes (its config), from a running or newly started orchestrator. */
export function dashboardLink(g: GlobalOptions): Promise<DashboardLogin> {
  return withServer(g, (http) => http.dashboardLogin());
}

/** A graphical session is there to open a browser in. */
function onDesktop(): boolean {
  return Boolean(process.env['DISPLAY'] || process.env['WAYLAND_DISPLAY']);
}

/**
 * xdg-open, detached: the browser outlives this command; a missing xdg-open only costs the
 * convenience. The link itself stays out of argv (other users see argv in /proc): xdg-open
 * gets a 0600 file that forwards the browser to it.
 */
function openInBrowser(url: string): void {
  const dir = join(ennioHome(), 'dashboard');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const page = join(dir, 'open.html');
  const escaped = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  writeFileSync(page, `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${escaped}"><title>Ennio</title>\n`, { mode: 0o600 });
  chmodSync(page, 0o600);
  const child = spawn('xdg-open', [page], { detached: true, stdio: 'ignore' });
  child.on('error', () => {});
  child.unref();
}

export function registerDashboard(program: Command, globals: () => GlobalOptions): void {
  program
    .command('dashboard')
    .description('the web dashboard: starts the orchestrator if needed and prints a one-time login link')
    .option('--no-open', 'only print the link (default: also open it in a browser on a desktop)')
    .action(async (opts: { open: boolean }) => {
      const g = globals();
      if (noServerWanted(g)) {
        throw new EnnioError('INVALID_ARGUMENT', 'the dashboard is served by the orchestrator, and --no-server (or ENNIO_NO_SERVER=1) says not to use one', {
          hint: 'run `ennio dashboard` without --no-server',
        });
      }
      const login = await dashboardLink(g);
      if (g.json) return printJson(login);
      process.stdout.write(`Dashboard: ${login.url}\n(one-time link, valid until ${new Date(login.expires_at).toLocaleTimeString()}; run \`ennio dashboard\` again for a new one)\n`);
      if (opts.open && onDesktop()) openInBrowser(login.url);
    });
}
