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
import { ControlStreamParser } from '../../ops/tmux-control.js';

export const CONTROL_SESSION = 'ennio-node-control';
const COMMAND_TIMEOUT_MS = 10_000;

/** The control client is gone (tmux server exited, client killed): run the command another way. */
export class ControlGone extends Error {
  override readonly name = 'ControlGone';
}

interface Pending {
  /** Blocks still to come: one per command of the line, none after a failing one. */
  blocks: number;
  stdout: string;
  resolve: (r: ExecResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Incremental parser of control-mode output; calls `onResult` for each of our blocks.
 * The framing rules live in src/ops/tmux-control.ts (the dashboard's terminals use the
 * same parser); `%output` never reaches this client (`refresh-client -f no-output`).
 */
export class ControlParser {
  private readonly stream: ControlStreamParser;

  constructor(onResult: (ok: boolean, lines: string[]) => void, onNotification: (line: string) => void) {
    this.stream = new ControlStreamParser({
      block: (ours, ok, lines) => ours && onResult(ok, lines),
      output: () => {},
      notification: onNotification,
    });
  }

  feed(chunk: string | Buffer): void {
    this.stream.feed(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
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
    this.child.stdout.on('data', (chunk: Buffer) => parser.feed(chunk));
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

  /**
   * Run one tmux command line (words already quoted for tmux's parser) of `commands`
   * commands separated by ` ; `. tmux answers each command with its own block and skips
   * the rest of the line after one fails (its block is then the last).
   */
  run(line: string, commands = 1): Promise<ExecResult> {
    if (!this.alive) return Promise.reject(new ControlGone('tmux control client is gone'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.die(`tmux did not answer within ${COMMAND_TIMEOUT_MS} ms`), COMMAND_TIMEOUT_MS);
      this.pending.push({ blocks: commands, stdout: '', resolve, reject, timer });
      this.child.stdin.write(`${line}\n`);
    });
  }

  private settle(ok: boolean, lines: string[]): void {
    const p = this.pending[0];
    if (!p) return; // a command we did not send (should not happen with FLAGS=1)
    const text = lines.length > 0 ? `${lines.join('\n')}\n` : '';
    if (ok) p.stdout += text;
    if (ok && --p.blocks > 0) return;
    this.pending.shift();
    clearTimeout(p.timer);
    p.resolve(ok ? { code: 0, stdout: p.stdout, stderr: '' } : { code: 1, stdout: p.stdout, stderr: text });
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
