/**
 * The daemon's Host: LocalHost, with a fast path for the hot tmux commands.
 *
 * The ops in src/ops/tmux.ts build argv (`tmux -u -L sock capture-pane …`) and run it
 * through a Host. This Host runs the SAME argv, but for a few read/send commands it
 * writes them as one command line into a tmux control-mode client (tmux-control.ts)
 * instead of spawning a process: GetOutput, SendMessage and IsAlive drop from ~4 ms to
 * well under 1 ms of tmux time. Everything else — and any command the control client
 * cannot take (stdin, cwd, env, newlines) or fails on — is spawned exactly as before.
 *
 * A control client is started for a tmux server only after a spawned command for it
 * succeeded (so the daemon never starts a tmux server of its own just to be fast).
 */
import type { ExecOptions, ExecResult, Host } from '../../host/host.js';
import { removeUnusedControlSession, replaceStaleControlSession } from './control-session.js';
import { ControlClient, ControlGone } from './tmux-control.js';

/** Commands whose output and effect are the same in control mode. */
const FAST = new Set(['capture-pane', 'send-keys', 'list-panes', 'kill-session', 'paste-buffer', 'has-session', 'display-message']);

export interface ControlPlan {
  /** `tmux -u [-L socket]`: which server. */
  base: string[];
  /** The command sequence as one line for tmux's parser (commands joined by ` ; `). */
  line: string;
  /** How many commands the line holds: tmux answers each with its own block. */
  commands: number;
}

/** Undo ops' tmuxArg: in argv mode a trailing `\;` means a literal `;` (tmux strips the backslash). */
function literal(arg: string): string {
  return arg.endsWith('\\;') ? `${arg.slice(0, -2)};` : arg;
}

/**
 * Whether argv can go through a control client, and as which line. Words are
 * single-quoted (tmux's parser takes them literally: no $VAR, ~, #, ; or {} meaning),
 * with ' written as '\'' exactly as in sh. A sequence (`a ; b`, as ops' commandSequence
 * builds for send) stays one line: tmux runs it as one group and skips the rest after a
 * failing command, exactly as a spawned `tmux a ; b` does.
 */
export function controlPlan(argv: readonly string[], options: ExecOptions = {}): ControlPlan | undefined {
  if (options.input !== undefined || options.cwd !== undefined || options.env !== undefined || options.timeoutMs !== undefined) return undefined;
  if (argv[0] !== 'tmux') return undefined;
  const base = ['tmux'];
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-u') base.push(a);
    else if (a === '-L' && argv[i + 1] !== undefined) base.push(a, argv[++i]!);
    else break;
  }
  const commands: string[][] = [[]];
  for (const word of argv.slice(i)) {
    if (word === ';') commands.push([]);
    else commands[commands.length - 1]!.push(word);
  }
  // One line per sequence: a newline cannot be a word here.
  if (commands.some((c) => c.length === 0 || !FAST.has(c[0]!) || c.some((w) => /[\r\n]/.test(w)))) return undefined;
  const line = commands.map((c) => c.map((w, n) => (n === 0 ? w : `'${literal(w).replace(/'/g, `'\\''`)}'`)).join(' ')).join(' ; ');
  return { base, line, commands: commands.length };
}

export class ControlModeHost implements Host {
  readonly label: string;
  readonly isRemote = false;
  private readonly clients = new Map<string, { client: ControlClient; base: string[] }>();
  /** Clients being started (a leftover control session is replaced first). */
  private readonly starting = new Map<string, Promise<void>>();
  private closed = false;

  constructor(private readonly local: Host) {
    this.label = local.label;
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const plan = controlPlan(argv, options);
    if (plan === undefined) return this.local.exec(argv, options);
    const key = plan.base.join(' ');
    const client = this.clients.get(key)?.client;
    if (client?.usable) {
      try {
        await client.ready;
        return await client.run(plan.line, plan.commands);
      } catch (err) {
        if (!(err instanceof ControlGone)) throw err;
        // Gone (server restarted, client killed): spawn this one, start afresh below.
      }
    }
    const res = await this.local.exec(argv, options);
    if (res.code === 0 && !this.clients.get(key)?.client.usable && !this.starting.has(key) && !this.closed) {
      const started = this.start(key, plan.base).finally(() => this.starting.delete(key));
      this.starting.set(key, started);
    }
    return res;
  }

  /**
   * Attach a control client to this tmux server (commands keep being spawned meanwhile).
   * Any failure here only means the fast path stays off: every command still runs.
   */
  private async start(key: string, base: string[]): Promise<void> {
    let serverStays: boolean;
    try {
      serverStays = await replaceStaleControlSession(this.local, base);
    } catch {
      serverStays = true; // could not look: attach to whatever is there (-A)
    }
    if (!serverStays || this.closed) return;
    const client = new ControlClient(base, (gone) => {
      if (this.clients.get(key)?.client === gone) this.clients.delete(key);
    });
    client.ready.catch(() => {}); // a failed start just means: keep spawning
    this.clients.set(key, { client, base });
  }

  homeDir(): Promise<string> {
    return this.local.homeDir();
  }

  /** Detach every control client and remove the control sessions no other daemon uses. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.starting.values());
    const entries = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(
      entries.map(async ({ client, base }) => {
        const pid = client.pid;
        await client.close();
        await removeUnusedControlSession(this.local, base, pid);
      }),
    );
    await this.local.close();
  }
}
