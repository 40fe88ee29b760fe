/**
 * A tmux control-mode client (`tmux -C`): one long-lived process per tmux server that
 * runs command lines and returns their output, ~0.3 ms per command instead of ~4 ms for
 * spawning a `tmux` process. It is only a faster way to run the same argv the ops build
 * (see control-host.ts); anything it cannot do falls back to spawning.
 *
 * Protocol (tmux(1) CONTROL MODE): every command's output is framed by
 * `%begin TIME NUM FLAGS` … `%end|%error TIME NUM FLAGS`; FLAGS is 1 for commands this
 * client sent, and they are answered in order. Lines outside a block are notifications
 * (`%session-changed`, `%exit`, …). A block ends only on a line equal to its own
 * `%end/%error TIME NUM FLAGS`, so pane text that merely looks like `%end …` is content.
 *
 * Control clients must be attached to a session; ours attaches to CONTROL_SESSION
 * (created if missing, running `cat`, no output). It is the price of the fast path and
 * is named so a human seeing it in `tmux ls` knows what it is; control-session.ts
 * replaces a leftover one and removes it when the daemon stops.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { ExecResult } from '../../host/host.js';

export const CONTROL_SESSION = 'ennio-node-control';
const COMMAND_TIMEOUT_MS = 10_000;

/** The control client is gone (tmux server exited, client killed): run the command another way. */
export class ControlGone extends Error {
  override readonly name = 'ControlGone';
}

interface Pending {
  resolve: (r: ExecResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Incremental parser of control-mode output; calls `onResult` for each of our blocks. */
export class ControlParser {
  private buffer = '';
  private block: { end: string; error: string; ours: boolean; lines: string[] } | undefined;

  constructor(
    private readonly onResult: (ok: boolean, lines: string[]) => void,
    private readonly onNotification: (line: string) => void,
  ) {}

  feed(text: string): void {
    this.buffer += text;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (this.block) {
      if (line === this.block.end || line === this.block.error) {
        const { ours, lines } = this.block;
        this.block = undefined;
        if (ours) this.onResult(!line.startsWith('%error'), lines);
      } else {
        this.block.lines.push(line);
      }
      return;
    }
    const m = /^%begin (\d+) (\d+) (\d+)$/.exec(line);
    if (m) {
      const tail = `${m[1]} ${m[2]} ${m[3]}`;
      this.block = { end: `%end ${tail}`, error: `%error ${tail}`, ours: m[3] === '1', lines: [] };
      return;
    }
    this.onNotification(line);
  }
}

export class ControlClient {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending: Pending[] = [];
  private alive = true;
  /** Resolves when the client is attached and ready for commands; rejects if it dies first. */
  readonly ready: Promise<void>;

  /** @param base `tmux -u [-L socket]` — the same server the ops address */
  constructor(base: readonly string[], onExit: (client: ControlClient) => void) {
    const [program, ...globals] = base;
    this.child = spawn(program ?? 'tmux', [...globals, '-C', 'new-session', '-A', '-s', CONTROL_SESSION, '-x', '80', '-y', '24', 'cat'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let attached: (() => void) | undefined;
    let failed: ((e: Error) => void) | undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      attached = resolve;
      failed = reject;
    });
    const parser = new ControlParser(
      (ok, lines) => this.settle(ok, lines),
      (line) => {
        if (line.startsWith('%session-changed')) attached?.();
        if (line.startsWith('%exit')) this.die('tmux control client exited');
      },
    );
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (text: string) => parser.feed(text));
    this.child.stderr.on('data', () => {});
    this.child.stdin.on('error', () => this.die('tmux control client closed its input'));
    this.child.on('error', (err) => this.die(`tmux control client failed: ${err.message}`));
    this.child.on('exit', () => {
      this.die('tmux control client exited');
      failed?.(new ControlGone('tmux control client exited before attaching'));
      onExit(this);
    });
    // Output notifications would stream every byte the control session's pane prints.
    void this.ready.then(() => this.run('refresh-client -f no-output')).catch(() => {});
  }

  get usable(): boolean {
    return this.alive;
  }

  /** The tmux client process (as tmux lists it in #{client_pid}). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Run one tmux command line (words already quoted for tmux's parser). */
  run(line: string): Promise<ExecResult> {
    if (!this.alive) return Promise.reject(new ControlGone('tmux control client is gone'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.die(`tmux did not answer within ${COMMAND_TIMEOUT_MS} ms`), COMMAND_TIMEOUT_MS);
      this.pending.push({ resolve, reject, timer });
      this.child.stdin.write(`${line}\n`);
    });
  }

  private settle(ok: boolean, lines: string[]): void {
    const p = this.pending.shift();
    if (!p) return; // a command we did not send (should not happen with FLAGS=1)
    clearTimeout(p.timer);
    const text = lines.length > 0 ? `${lines.join('\n')}\n` : '';
    p.resolve(ok ? { code: 0, stdout: text, stderr: '' } : { code: 1, stdout: '', stderr: text });
  }

  private die(why: string): void {
    if (!this.alive) return;
    this.alive = false;
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(new ControlGone(why));
    }
    this.child.kill('SIGTERM');
  }

  /**
   * Detach and wait for the client to exit (the tmux server and every session keep
   * running). Waiting matters: a control client whose peer vanished without detaching can
   * leave the tmux server unable to finish a later kill-server (seen with tmux 3.3a).
   */
  close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    this.alive = false;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 1000);
      this.child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.stdin.end();
    });
  }
}
