/**
 * Stopping a tmux server a test (or bench) started on its own socket (-L name), without
 * leaving anything behind: tmux 3.3 keeps the socket file in /tmp/tmux-<uid>/ after
 * kill-server, and a control client whose daemon was SIGKILLed can keep the server alive.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Pids whose command line names this (unique, test-made) tmux socket. */
function tmuxPidsFor(socket: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (args[0]?.startsWith('tmux') && args.includes(socket)) pids.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** Where tmux keeps the socket of `tmux -L socket` (its own rule: $TMUX_TMPDIR or /tmp). */
export function tmuxSocketPath(socket: string): string {
  return join(process.env['TMUX_TMPDIR'] || '/tmp', `tmux-${process.getuid?.() ?? 0}`, socket);
}

export function killTmuxServer(socket: string): void {
  spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore', timeout: 10_000 });
  // These processes are ours: the socket name is unique to the test.
  for (const pid of tmuxPidsFor(socket)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(tmuxSocketPath(socket), { force: true });
}
