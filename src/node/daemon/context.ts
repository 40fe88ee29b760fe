/** What the RPC implementations share: where they run and how the daemon is set up. */
import type { Host } from '../../host/host.js';
import type { TmuxServer } from '../../ops/tmux.js';
import type { Logger } from './log.js';

export interface ServiceContext {
  /** The daemon's LocalHost: every tmux/git/fs operation from src/ops runs through it. */
  host: Host;
  /** The tmux server new runtimes start on (handles remember theirs in `data`). */
  tmux: TmuxServer;
  /** Absolute and realpath'ed: everything the daemon creates or deletes is below it. */
  workspaceRoot: string;
  version: string;
  buildId: string;
  startedAt: number;
  idleTimeoutSecs: number;
  log: Logger;
  /** Ask the server to stop (after in-flight calls when graceful). */
  requestShutdown(graceful: boolean): void;
}
