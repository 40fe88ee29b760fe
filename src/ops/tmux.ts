/**
 * tmux operations as pure argv builders and output parsers. They run unchanged through
 * LocalHost, SshHost and the ennio-node daemon's LocalHost.
 *
 * Two tmux parsing rules matter for untrusted text (both verified against tmux 3.3a):
 * - an argument ending in `;` is a command separator unless written `\;` (tmuxArg);
 * - `new-session -c` is format-expanded, so `#` must be doubled or `#(cmd)` would run.
 */
import { EnnioError } from '../core/errors.js';
import { execChecked, type Host } from '../host/host.js';
import { canonicalLineTooLong, exceedsCanonicalLine, normalizeMessage } from './message.js';

/** Which tmux server: undefined = the user's default server, else `tmux -L <socket>`. */
export interface TmuxServer {
  socket?: string;
  /** Program name: 'tmux' (default) or 'tmate' (same command set). */
  program?: string;
  /** For tmate: its own socket path (`-S`). */
  socketPath?: string;
}

const SESSION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function assertSessionName(name: string): void {
  if (!SESSION_NAME.test(name)) {
    throw new EnnioError(
      'INVALID_ARGUMENT',
      `invalid session name ${JSON.stringify(name)}: use 1-64 letters, digits, '-' or '_'`,
    );
  }
}

/** Escape a trailing `;` so tmux does not split the command there. */
export function tmuxArg(arg: string): string {
  return arg.endsWith(';') ? `${arg.slice(0, -1)}\\;` : arg;
}

/** Escape text that tmux expands as a format. */
export function tmuxFormatLiteral(text: string): string {
  return text.replace(/#/g, '##');
}

export function tmuxBase(server: TmuxServer = {}): string[] {
  // -u: without a UTF-8 locale (sshd without AcceptEnv, cron) tmux rewrites tabs and
  // non-ASCII in its output, which breaks list-panes parsing and mangles captured text.
  const argv = [server.program ?? 'tmux', '-u'];
  if (server.socketPath) argv.push('-S', server.socketPath);
  else if (server.socket) argv.push('-L', server.socket);
  return argv;
}

/** `=name` makes tmux match the session name exactly instead of by prefix. */
export function exactTarget(session: string): string {
  return `=${session}:`;
}

export interface NewSessionSpec {
  name: string;
  cwd: string;
  env: Record<string, string>;
  /** Program and arguments; exec'd directly by tmux (more than one word), no shell. */
  command: readonly string[];
  width?: number;
  height?: number;
}

export function newSessionArgv(server: TmuxServer, spec: NewSessionSpec): string[] {
  assertSessionName(spec.name);
  if (spec.command.length === 0) throw new EnnioError('INVALID_ARGUMENT', 'empty launch command');
  // With a single word tmux would hand it to `sh -c`; keep it an exec of argv.
  const command = spec.command.length === 1 ? ['env', '--', ...spec.command] : [...spec.command];
  const argv = [
    ...tmuxBase(server),
    'new-session', '-d',
    '-s', spec.name,
    '-x', String(spec.width ?? 200),
    '-y', String(spec.height ?? 50),
    '-c', tmuxArg(tmuxFormatLiteral(spec.cwd)),
  ];
  for (const [key, value] of Object.entries(spec.env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new EnnioError('INVALID_ARGUMENT', `invalid environment variable name ${JSON.stringify(key)}`);
    }
    argv.push('-e', tmuxArg(`${key}=${value}`));
  }
  argv.push('--', ...command.map(tmuxArg));
  // Keep the pane after the agent exits so status can say `exited` and logs stay readable.
  argv.push(';', 'set-option', '-t', exactTarget(spec.name), 'remain-on-exit', 'on');
  argv.push(';', 'set-option', '-t', exactTarget(spec.name), 'history-limit', '50000');
  return argv;
}

export function killSessionArgv(server: TmuxServer, name: string): string[] {
  assertSessionName(name);
  return [...tmuxBase(server), 'kill-session', '-t', exactTarget(name)];
}

/** Literal keystrokes (no key-name lookup), then nothing else. */
function sendLiteralCommand(name: string, text: string): string[] {
  return ['send-keys', '-t', exactTarget(name), '-l', '--', tmuxArg(text)];
}

export function sendLiteralArgv(server: TmuxServer, name: string, text: string): string[] {
  return [...tmuxBase(server), ...sendLiteralCommand(name, text)];
}

/** Reads the buffer from stdin (pass the message as ExecOptions.input). */
function loadBufferCommand(buffer: string): string[] {
  return ['load-buffer', '-b', buffer, '-'];
}

export function loadBufferArgv(server: TmuxServer, buffer: string): string[] {
  return [...tmuxBase(server), ...loadBufferCommand(buffer)];
}

/** -p: bracketed paste when the program asked for it, so newlines do not submit early. */
function pasteBufferCommand(name: string, buffer: string): string[] {
  return ['paste-buffer', '-p', '-d', '-b', buffer, '-t', exactTarget(name)];
}

/** The last `lines` lines of the pane including scrollback, wrapped lines joined. */
export function capturePaneArgv(server: TmuxServer, name: string, lines: number): string[] {
  return [...tmuxBase(server), 'capture-pane', '-p', '-J', '-t', exactTarget(name), '-S', `-${Math.max(1, lines)}`];
}

/**
 * One line per pane of every session of a server: what a sweep needs to know about all
 * sessions at once. The current command comes last: it is the only free-text field.
 */
const PANE_FORMAT = ['#{session_name}', '#{pane_dead}', '#{pane_pid}', '#{pane_dead_status}', '#{window_activity}', '#{pane_current_command}'].join('\t');

export function listPanesArgv(server: TmuxServer): string[] {
  return [...tmuxBase(server), 'list-panes', '-a', '-F', PANE_FORMAT];
}

export interface PaneState {
  session: string;
  dead: boolean;
  pid: number;
  exitStatus: number | undefined;
  /** The program in the foreground of the pane (`node`, `bash`…); '' when tmux did not say. */
  currentCommand: string;
  /** Last activity in the session's window (ms since epoch); undefined when tmux did not say. */
  activityAt: number | undefined;
}

const numberOr = (text: string | undefined): number | undefined => (text === undefined || text === '' ? undefined : Number(text));

/** The first pane of every session (an agent's session has one). */
export function parsePanes(stdout: string): Map<string, PaneState> {
  const panes = new Map<string, PaneState>();
  for (const line of stdout.split('\n')) {
    const [session, dead, pid, status, activity, ...command] = line.split('\t');
    if (!session || panes.has(session)) continue;
    const activitySecs = numberOr(activity);
    panes.set(session, {
      session,
      dead: dead === '1',
      pid: Number(pid),
      exitStatus: numberOr(status),
      currentCommand: command.join('\t'),
      activityAt: activitySecs === undefined || Number.isNaN(activitySecs) ? undefined : activitySecs * 1000,
    });
  }
  return panes;
}

/** tmux's "no server" / "no session" answers mean "nothing is running", not an error. */
export function isNoServer(stderr: string): boolean {
  return /no server running|error connecting to|no sessions|can't find session|session not found/i.test(stderr);
}

/**
 * What a `list-panes -a` run says: the panes, or that no tmux server runs there (no
 * sessions at all: every session of ours on it is gone). Anything else is a failure of
 * the command, thrown: it says nothing about the sessions.
 */
export function panesFromResult(res: { code: number; stdout: string; stderr: string }, hostLabel: string, server: TmuxServer = {}): Map<string, PaneState> {
  if (res.code === 0) return parsePanes(res.stdout);
  if (isNoServer(res.stderr)) return new Map();
  if (res.code === 127) throw new EnnioError('TOOL_MISSING', `${server.program ?? 'tmux'} is not installed on ${hostLabel}`, { hint: 'install it (Debian: apt-get install tmux)' });
  throw new EnnioError('COMMAND_FAILED', `tmux list-panes failed on ${hostLabel} (exit ${res.code}): ${res.stderr.trim()}`);
}

/**
 * Keep the last `lines` lines without the blank rows tmux pads a pane with. Trailing
 * blanks are cut from every line, so a line reads the same whether or not it is the last.
 */
export function tailLines(text: string, lines: number): string {
  const rows = text.split('\n').map((row) => row.trimEnd());
  while (rows.length > 0 && rows[rows.length - 1] === '') rows.pop();
  return rows.slice(-lines).join('\n');
}

export type Liveness = 'running' | 'exited' | 'missing';

/** A session's liveness from its server's panes. */
export function paneLiveness(panes: ReadonlyMap<string, PaneState>, name: string): Liveness {
  const pane = panes.get(name);
  if (!pane) return 'missing';
  return pane.dead ? 'exited' : 'running';
}

/** State of every session on a server in one round trip. */
export async function paneStates(host: Host, server: TmuxServer): Promise<Map<string, PaneState>> {
  return panesFromResult(await host.exec(listPanesArgv(server)), host.label, server);
}

export async function liveness(host: Host, server: TmuxServer, name: string): Promise<Liveness> {
  return paneLiveness(await paneStates(host, server), name);
}

/** Messages up to this size without newlines go through send-keys -l; others via a paste buffer. */
export const SEND_KEYS_LIMIT = 512;

// One command on the session's host: the pane's terminal device from tmux, then its
// termios from stty (GNU -F, BSD -f). The tmux argv comes in as "$@", never as script text.
const PANE_TERMIOS_SCRIPT = 't=$("$@") || exit 1; stty -a -F "$t" 2>/dev/null || stty -a -f "$t"';

export function paneTermiosArgv(server: TmuxServer, name: string): string[] {
  return ['sh', '-c', PANE_TERMIOS_SCRIPT, 'sh', ...tmuxBase(server), 'display-message', '-p', '-t', exactTarget(name), '#{pane_tty}'];
}

/** From `stty -a`: true for canonical mode (icanon), false for raw (-icanon), undefined if absent. */
export function parseCanonical(sttyOutput: string): boolean | undefined {
  const words = sttyOutput.split(/[\s;]+/);
  if (words.includes('-icanon')) return false;
  if (words.includes('icanon')) return true;
  return undefined;
}

/**
 * Whether the program in the pane reads lines (canonical mode). Undefined when it cannot
 * be told (no stty, a pane gone): the send then goes ahead and reports its own failure.
 */
export async function paneIsCanonical(host: Host, server: TmuxServer, name: string): Promise<boolean | undefined> {
  const res = await host.exec(paneTermiosArgv(server, name));
  return res.code === 0 ? parseCanonical(res.stdout) : undefined;
}

/** A session that is not running: the message was not typed (tmux drops keys for a dead pane). */
export function notRunning(name: string, state: Exclude<Liveness, 'running'>): EnnioError {
  return new EnnioError('SESSION_STATE', `session ${name} is not running (${state}); the message was not sent`, {
    hint: `restore it with: ennio session restore ${name}`,
  });
}

/** `a ; b ; c` as one tmux invocation: tmux runs them in order and stops at the first that fails. */
function commandSequence(server: TmuxServer, commands: string[][]): string[] {
  const argv = tmuxBase(server);
  commands.forEach((command, i) => {
    if (i > 0) argv.push(';');
    argv.push(...command);
  });
  return argv;
}

/**
 * Type a message into the session and submit it (src/ops/message.ts says what a message
 * may be). Short single-line text is typed with send-keys -l; long or multi-line text goes
 * through load-buffer/paste-buffer (bracketed paste), so it arrives as one message; then
 * Enter submits it. All of it is ONE tmux invocation (one round trip to a remote host):
 * has-session first (a missing session stops the sequence before anything is typed), the
 * pane's dead flag last (tmux silently drops keys sent to a dead pane). A line longer than
 * a canonical-mode terminal holds is refused before anything is typed; only such a message
 * costs the extra termios check.
 */
export async function sendMessage(host: Host, server: TmuxServer, name: string, raw: string): Promise<void> {
  assertSessionName(name);
  const message = normalizeMessage(raw);
  if (exceedsCanonicalLine(message) && (await paneIsCanonical(host, server, name)) === true) {
    throw canonicalLineTooLong(name, message);
  }
  const target = exactTarget(name);
  const pasted = message.length > SEND_KEYS_LIMIT || message.includes('\n');
  const buffer = `ennio-${name}-${process.pid}-${Date.now().toString(36)}`;
  const typing = pasted ? [loadBufferCommand(buffer), pasteBufferCommand(name, buffer)] : message.length > 0 ? [sendLiteralCommand(name, message)] : [];
  const argv = commandSequence(server, [['has-session', '-t', `=${name}`], ...typing, ['send-keys', '-t', target, 'Enter'], ['display-message', '-p', '-t', target, '#{pane_dead}']]);
  const res = await host.exec(argv, pasted ? { input: message } : {});
  if (res.code !== 0) {
    // has-session fails without a word; "no server running" when no tmux server is left.
    if (res.stderr.trim() === '' || isNoServer(res.stderr)) throw notRunning(name, 'missing');
    if (res.code === 127) throw new EnnioError('TOOL_MISSING', `${server.program ?? 'tmux'} is not installed on ${host.label}`, { hint: 'install it (Debian: apt-get install tmux)' });
    throw new EnnioError('COMMAND_FAILED', `tmux could not type into ${name} on ${host.label} (exit ${res.code}): ${res.stderr.trim()}`);
  }
  if (res.stdout.trim() === '1') throw notRunning(name, 'exited');
}

export async function capture(host: Host, server: TmuxServer, name: string, lines: number): Promise<string> {
  assertSessionName(name);
  const res = await execChecked(host, capturePaneArgv(server, name, lines));
  return tailLines(res.stdout, lines);
}

export async function createSession(host: Host, server: TmuxServer, spec: NewSessionSpec): Promise<void> {
  const res = await host.exec(newSessionArgv(server, spec));
  if (res.code === 127) {
    throw new EnnioError('TOOL_MISSING', `${server.program ?? 'tmux'} is not installed on ${host.label}`, { hint: 'install it (Debian: apt-get install tmux)' });
  }
  if (res.code !== 0) {
    throw new EnnioError('COMMAND_FAILED', `could not start tmux session ${spec.name} on ${host.label}: ${res.stderr.trim()}`);
  }
}

/** Kill the session; a session that is already gone is not an error. */
export async function killSession(host: Host, server: TmuxServer, name: string): Promise<void> {
  const res = await host.exec(killSessionArgv(server, name));
  // Killing the last session ends the tmux server, which may go before it answers: gone too.
  if (res.code !== 0 && !isNoServer(res.stderr) && !/server exited unexpectedly/i.test(res.stderr)) {
    throw new EnnioError('COMMAND_FAILED', `tmux kill-session ${name} failed on ${host.label}: ${res.stderr.trim()}`);
  }
}
