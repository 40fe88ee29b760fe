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
import { ControlClient, ControlGone } from './tmux-control.js';

/** Commands whose output and effect are the same in control mode. */
const FAST = new Set(['capture-pane', 'send-keys', 'list-panes', 'kill-session', 'paste-buffer', 'has-session', 'display-message']);

export interface ControlPlan {
  /** `tmux -u [-L socket]`: which server. */
  base: string[];
  /** The command as one line for tmux's parser. */
  line: string;
}

/** Undo ops' tmuxArg: in argv mode a trailing `\;` means a literal `;` (tmux strips the backslash). */
function literal(arg: string): string {
  return arg.endsWith('\\;') ? `${arg.slice(0, -2)};` : arg;
}

/**
 * Whether argv can go through a control client, and as which line. Words are
 * single-quoted (tmux's parser takes them literally: no $VAR, ~, #, ; or {} meaning),
 * with ' written as '\'' exactly as in sh.
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
  const command = argv.slice(i);
  if (command.length === 0 || !FAST.has(command[0]!)) return undefined;
  // One command per line; a lone ';' (command separator) or a newline cannot be a word here.
  if (command.some((w) => w === ';' || /[\r\n]/.test(w))) return undefined;
  const line = command.map((w, n) => (n === 0 ? w : `'${literal(w).replace(/'/g, `'\\''`)}'`)).join(' ');
  return { base, line };
}

export class ControlModeHost implements Host {
  readonly label: string;
  readonly isRemote = false;
  private readonly clients = new Map<string, ControlClient>();

  constructor(private readonly local: Host) {
    this.label = local.label;
  }

  async exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const plan = controlPlan(argv, options);
    if (plan === undefined) return this.local.exec(argv, options);
    const key = plan.base.join(' ');
    const client = this.clients.get(key);
    if (client?.usable) {
      try {
        await client.ready;
        return await client.run(plan.line);
      } catch (err) {
        if (!(err instanceof ControlGone)) throw err;
        // Gone (server restarted, client killed): spawn this one, start afresh below.
      }
    }
    const res = await this.local.exec(argv, options);
    if (res.code === 0 && !this.clients.get(key)?.usable) this.start(key, plan.base);
    return res;
  }

  private start(key: string, base: string[]): void {
    const client = new ControlClient(base, (gone) => {
      if (this.clients.get(key) === gone) this.clients.delete(key);
    });
    client.ready.catch(() => {}); // a failed start just means: keep spawning
    this.clients.set(key, client);
  }

  homeDir(): Promise<string> {
    return this.local.homeDir();
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
    await this.local.close();
  }
}
