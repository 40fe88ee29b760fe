/**
 * The activity probe: ONE command per tmux server on a host that returns, for every session
 * asked about, the new lines of its state file (from a byte offset), when its window last
 * showed output (tmux #{window_activity}), and — only when asked and the screen changed
 * since it was last read — the visible screen. A probe is pure data ({argv, parse}), so
 * the per-host sweep (src/ops/host-probes.ts) can fold it into its own command.
 *
 * Sections of the answer start with a line `@<nonce> …`; the nonce is random per probe, so
 * no screen or state file can forge one.
 */
import { randomBytes } from 'node:crypto';
import { exactTarget, tmuxBase, type TmuxServer } from '../ops/tmux.js';
import type { HostClock } from './state-lines.js';

export interface ProbeTarget {
  /** tmux session name. */
  session: string;
  /** State file to read from `offset` on ('' = read elsewhere, e.g. locally from the file system). */
  stateFile: string;
  offset: number;
  /**
   * Capture the screen when its window activity differs from `unlessMark` and it has been
   * quiet at least `minQuietS` seconds; undefined = never.
   */
  capture?: { unlessMark: string; minQuietS: number } | undefined;
}

export interface ProbeSession {
  /** tmux #{window_activity} (epoch seconds on the host), undefined when the session is gone. */
  windowActivity?: number;
  /** New bytes of the state file (complete and partial lines). */
  lines: string;
  /** Where `lines` start, when the reader says (0 after the file was re-created); default: the offset asked. */
  from?: number;
  /** The visible screen, when it was captured. */
  screen?: string;
}

/** The same questions asked of a reader on the host itself (ennio-node, in its ListRuntimes call). */
export type ActivityAsk = Omit<ProbeTarget, 'session'>;

/** What such a reader answered for one session, with the host's clock when it read. */
export interface ActivitySeen extends ProbeSession {
  clock: HostClock;
}

export interface ProbeResult {
  clock: HostClock;
  sessions: Map<string, ProbeSession>;
}

export interface Probe<T> {
  argv: string[];
  parse(stdout: string): T;
}

const SCRIPT = `n=$1 prog=$2 flag=$3 sock=$4; shift 4
t() { if [ -n "$flag" ]; then "$prog" -u "$flag" "$sock" "$@"; else "$prog" -u "$@"; fi; }
NL='
'
now=$(date +%s%3N); case $now in ''|*[!0-9]*) now=$(date +%s)000 ;; esac
up=; { read -r up rest </proc/uptime; } 2>/dev/null
printf '@%s now %s %s\\n' "$n" "$now" "$up"
# Every asked session's window activity in one pass (awk), one line each in the order asked:
# looking each one up with \${panes#*"$NL$s "} costs dash O(panes) per position, which made
# 100 sessions on one host ~130 ms and 1,000 ~2 minutes per sweep.
acts=$( { t list-panes -a -F '#{session_name} #{window_activity}' 2>/dev/null; echo '@@@'; i=0; for x in "$@"; do [ $((i % 5)) -eq 0 ] && printf '%s\\n' "$x"; i=$((i+1)); done; } | awk 'f { print (($0) in a) ? a[$0] : "-"; next } $0 == "@@@" { f = 1; next } { a[$1] = $2 }')
while [ $# -ge 5 ] && IFS= read -r a; do
  s=$1 f=$2 off=$3 mark=$4 quiet=$5; shift 5
  [ "$a" = - ] && a=
  printf '@%s s %s %s\\n' "$n" "$s" "\${a:--}"
  if [ -n "$f" ] && [ -f "$f" ]; then tail -c "+$((off + 1))" "$f" 2>/dev/null </dev/null; fi
  printf '\\n'
  if [ -n "$a" ] && [ "$quiet" -ge 0 ] && [ "$a" != "$mark" ] && [ $((now / 1000 - a)) -ge "$quiet" ]; then
    printf '@%s c %s\\n' "$n" "$s"
    t capture-pane -p -J -t "=$s:" 2>/dev/null </dev/null
    printf '\\n'
  fi
done <<ENNIO_ACTS
$acts
ENNIO_ACTS
printf '@%s end\\n' "$n"
`;

/**
 * Whether a screen is worth reading now: the probe script's own rule (it changed since it
 * was last read, and has been quiet long enough), for readers that are not the script.
 */
export function wantsScreen(capture: ProbeTarget['capture'], windowActivityS: number | undefined, nowMs: number): boolean {
  if (!capture || windowActivityS === undefined || capture.minQuietS < 0) return false;
  return String(windowActivityS) !== capture.unlessMark && Math.floor(nowMs / 1000) - windowActivityS >= capture.minQuietS;
}

/** The visible screen of a tmux session: the capture the probe script runs. */
export function screenArgv(server: TmuxServer, session: string): string[] {
  return [...tmuxBase(server), 'capture-pane', '-p', '-J', '-t', exactTarget(session)];
}

/** tmux's command and socket as three words for the script: program, -L/-S or '', socket. */
function tmuxWords(server: TmuxServer): [string, string, string] {
  const base = tmuxBase(server); // [program, '-u', ('-L'|'-S', socket)?]
  return [base[0]!, base[2] ?? '', base[3] ?? ''];
}

export function activityProbe(server: TmuxServer, targets: readonly ProbeTarget[], nonce = randomBytes(6).toString('hex')): Probe<ProbeResult> {
  const args = targets.flatMap((t) => [t.session, t.stateFile, String(t.offset), t.capture?.unlessMark ?? '', String(t.capture ? t.capture.minQuietS : -1)]);
  return {
    argv: ['sh', '-c', SCRIPT, 'ennio-activity', nonce, ...tmuxWords(server), ...args],
    parse: (stdout) => parseProbe(stdout, nonce),
  };
}

export function parseProbe(stdout: string, nonce: string): ProbeResult {
  const marker = `@${nonce} `;
  const result: ProbeResult = { clock: { nowMs: Date.now() }, sessions: new Map() };
  // Split at marker lines; each section is "<header>\n<body>". The newline the script adds
  // after every body goes with the split, so a body is exactly what tail or tmux printed.
  const parts = `\n${stdout}`.split(`\n${marker}`).slice(1);
  for (const part of parts) {
    const nl = part.indexOf('\n');
    const header = nl < 0 ? part : part.slice(0, nl);
    const body = nl < 0 ? '' : part.slice(nl + 1);
    const [kind, a, b] = header.split(' ');
    if (kind === 'now') {
      result.clock = { nowMs: Number(a), ...(b ? { uptimeS: Number(b) } : {}) };
    } else if (kind === 's' && a) {
      const activity = b && b !== '-' ? Number(b) : undefined;
      result.sessions.set(a, { lines: body, ...(activity !== undefined ? { windowActivity: activity } : {}) });
    } else if (kind === 'c' && a) {
      const s = result.sessions.get(a);
      if (s) s.screen = body;
    }
  }
  return result;
}
