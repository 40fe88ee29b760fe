/**
 * The life of the daemon's tmux control session (CONTROL_SESSION, see tmux-control.ts)
 * on the host's tmux server. It exists only for the fast path, so nothing of it may
 * outlive the daemons using it:
 * - before attaching, a control session no client is attached to is a leftover of a
 *   daemon that died without cleaning up (kill -9): it is replaced by a fresh one;
 * - at shutdown (Shutdown call, idle timeout, SIGTERM), after detaching, the session is
 *   removed unless another daemon's control client still uses it (several daemons of
 *   one user may share one tmux server).
 */
import type { Host } from '../../host/host.js';
import { exactTarget } from '../../ops/tmux.js';
import { CONTROL_SESSION } from './tmux-control.js';

/** Pids of the clients attached to the control session; undefined when it does not exist. */
async function controlClients(host: Host, base: readonly string[]): Promise<string[] | undefined> {
  const res = await host.exec([...base, 'list-clients', '-t', exactTarget(CONTROL_SESSION), '-F', '#{client_pid}']);
  if (res.code !== 0) return undefined; // no such session, or no server at all
  return res.stdout.split('\n').filter((l) => l !== '');
}

async function killControlSession(host: Host, base: readonly string[]): Promise<void> {
  await host.exec([...base, 'kill-session', '-t', exactTarget(CONTROL_SESSION)]);
}

/**
 * Replace a leftover control session before attaching. Returns false when that leftover
 * was the server's last session: the tmux server has exited with it, and the daemon must
 * not start a tmux server of its own just to be fast.
 */
export async function replaceStaleControlSession(host: Host, base: readonly string[]): Promise<boolean> {
  const clients = await controlClients(host, base);
  if (clients === undefined || clients.length > 0) return true;
  await killControlSession(host, base);
  return (await host.exec([...base, 'list-sessions', '-F', '#{session_name}'])).code === 0;
}

/** After our client `ownPid` detached: remove the control session unless another client uses it. */
export async function removeUnusedControlSession(host: Host, base: readonly string[], ownPid: number | undefined): Promise<void> {
  const clients = await controlClients(host, base);
  if (clients === undefined) return;
  if (clients.some((pid) => pid !== String(ownPid))) return;
  await killControlSession(host, base);
}
