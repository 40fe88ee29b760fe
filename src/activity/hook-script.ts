/**
 * The hook program agents run on every event: a POSIX sh script that appends one line to
 * the session's state file and nothing else. It must never slow the agent down or fail
 * its turn (exit 2 from a Claude Code hook BLOCKS the agent, and a hook's stdout becomes
 * context for some events), so it starts no interpreter, forks nothing it waits for (a
 * payload it does not need is drained by a background cat), prints nothing and always exits 0.
 * bench/hook-bench.ts measures it.
 *
 * Line format (tab-separated): time, event, notification type, agent session id. The time
 * is `u<seconds since boot>` (read from /proc/uptime by the shell, no fork), or epoch ms
 * where there is no /proc.
 * Values are reduced to [A-Za-z0-9_.:-] so a payload cannot forge a line.
 */
import { createHash } from 'node:crypto';
import { shellJoin, shellQuote } from '../ops/shell-quote.js';

export const HOOK_SCRIPT = `#!/bin/sh
# ennio activity hook. Usage:
#   ennio-hook STATE_FILE claude EVENT   (Claude Code: the event's JSON on stdin)
#   ennio-hook STATE_FILE codex JSON     (codex notify: the JSON as the last argument)
exec >/dev/null 2>&1
f=$1 ev=$3 p= drain=1
if [ "$2" = codex ]; then
  # codex: the JSON is an argument; stdin may be codex's own terminal, never read it.
  p=$3 ev= drain=
else
  # Small payloads that carry what we record are read by the shell itself (no fork).
  # Every payload is read to the end: a hook that exits early makes the agent's write fail (EPIPE).
  case $ev in SessionStart|Notification|Stop|SessionEnd) IFS= read -r p || drain= ;; esac
fi
# The string value of JSON key $1 in $p, into v (empty unless plain).
field() {
  v=
  case $p in *"\\"$1\\""*) ;; *) return 0 ;; esac
  v=\${p#*"\\"$1\\""}
  v=\${v#"\${v%%[!: ]*}"}
  case $v in \\"*) v=\${v#\\"}; v=\${v%%\\"*} ;; *) v= ;; esac
  case $v in *[!A-Za-z0-9_.:-]*) v= ;; esac
  return 0
}
if [ -z "$ev" ]; then field type; ev=$v; fi
case $ev in ''|*[!A-Za-z0-9_.:-]*) ev=unknown ;; esac
field session_id; sid=$v
[ -n "$sid" ] || { field thread-id; sid=$v; }
field notification_type; nt=$v
if [ "$ev" = Notification ] && [ -z "$nt" ]; then
  case $p in
    *'needs your permission'*|*'needs your attention'*) nt=permission_prompt ;;
    *'waiting for your input'*) nt=idle_prompt ;;
  esac
fi
# The time without forking date: seconds since boot ("u" prefix; the reader knows the boot time).
if read -r up rest </proc/uptime; then t=u$up; else t=$(date +%s)000; fi
w() { printf '%s\\t%s\\t%s\\t%s\\n' "$t" "$ev" "$nt" "$sid" >>"$f"; }
w 2>/dev/null || { mkdir -p "\${f%/*}" && w; }
# The rest of a payload we do not need (a tool's output can be megabytes) is drained in the
# background: the agent's write completes, and the hook returns without waiting for it.
# (A background command's stdin is /dev/null unless given explicitly: fd 3 keeps the payload's.)
if [ -n "$drain" ]; then exec 3<&0; cat <&3 3<&- & fi
exit 0
`;

const HASH = createHash('sha256').update(HOOK_SCRIPT).digest('hex').slice(0, 10);

/** The script's file name: named by its content, so a file once written never changes under a running hook. */
export const HOOK_SCRIPT_NAME = `ennio-hook-${HASH}.sh`;

/** Where the script and the state files live under an ennio data directory on a host. */
export const hookScriptPath = (dataDir: string): string => `${dataDir}/bin/${HOOK_SCRIPT_NAME}`;
export const stateFilePath = (dataDir: string, sessionId: string): string => `${dataDir}/activity/${sessionId}.events`;

/**
 * Whether `path` is session `sessionId`'s state file as stateFilePath names it under some
 * absolute data dir: what ennio-node agrees to read for a caller (no `.`/`..` segments).
 */
export function isStateFilePath(path: string, sessionId: string): boolean {
  const parts = path.split('/');
  if (parts[0] !== '' || parts.some((p) => p === '.' || p === '..')) return false;
  return parts.length >= 3 && parts.at(-1) === `${sessionId}.events` && parts.at(-2) === 'activity';
}

/** The shell command a Claude Code hook runs (Claude Code runs it through a shell). */
export function claudeHookCommand(script: string, stateFile: string, event: string): string {
  // exec: one shell less per event. A missing script (data dir deleted) still drains the
  // payload and exits 0, so the agent never sees a failing hook.
  return `[ -r ${shellQuote(script)} ] && exec ${shellJoin(['sh', script, stateFile, 'claude', event])}; cat >/dev/null; exit 0`;
}

/** codex's notify program: argv, to which codex appends the event's JSON. */
export function codexNotifyArgv(script: string, stateFile: string): string[] {
  return ['sh', script, stateFile, 'codex'];
}
