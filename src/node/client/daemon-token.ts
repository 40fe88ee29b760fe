/**
 * The bearer token sent to one daemon. node_config.auth_token wins; otherwise every
 * orchestrator of the remote user shares the token the daemon was started with (the
 * remote `token` file), and keeps it in the local TokenStore so a restarted orchestrator
 * sends it again instead of regenerating into a mismatch.
 */
import { TokenStore, generateToken } from './token-store.js';

export class DaemonToken {
  /** What the next call sends (read per call, so an adopted token applies to the warm session). */
  current: string | undefined;

  constructor(
    private readonly key: string,
    readonly configured: string | undefined,
    private readonly store: TokenStore,
  ) {
    this.current = configured ?? store.get(key);
  }

  /**
   * Offered for a token file that does not exist yet: the remote file first (shared by
   * every orchestrator of this remote user), then ours, then a new one.
   */
  offer(remoteFile: string | undefined): string {
    return this.configured ?? remoteFile ?? this.current ?? generateToken();
  }

  /** The daemon accepted the remote token file's content: this remote user's daemons share one token. */
  adopt(remote: string): void {
    this.current = remote;
    this.store.set(this.key, remote);
  }

  /** The token a daemon we started really got (a concurrent deploy may have written the file first). */
  startedWith(token: string): void {
    this.current = token;
    if (this.configured === undefined) this.store.set(this.key, token); // a restarted orchestrator reuses it
  }
}
