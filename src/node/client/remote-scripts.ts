/**
 * The shell snippets deploy.ts runs on the remote host (POSIX sh, one round trip each).
 * Values always travel as positional parameters ("$1"…) and secrets on stdin, never
 * spliced into the script text, so nothing needs quoting and the token never appears in
 * any process's argv on either machine.
 */

/** Expands a leading ~ in "$1" against $HOME (the remote user's). Sets `dir`. */
const EXPAND_DIR = 'dir=$1; case $dir in "~"|"~/"*) dir=$HOME${dir#"~"};; esac';

/**
 * Probe: $1 remote dir, $2 bundle path relative to it, $3 configured binary ('' = none).
 * Prints key=value lines: home, dir, node (version), setsid, sha (of the bundle copy),
 * custom (configured binary exists, its expanded path), token (the remote token file).
 */
export const PROBE = [
  'set -u',
  EXPAND_DIR,
  'printf "home=%s\\ndir=%s\\n" "$HOME" "$dir"',
  'if command -v node >/dev/null 2>&1; then printf "node=%s\\n" "$(node -v 2>/dev/null)"; fi',
  'if command -v setsid >/dev/null 2>&1; then echo setsid=1; fi',
  'bin=$dir/$2',
  'if [ -f "$bin" ]; then',
  '  if command -v sha256sum >/dev/null 2>&1; then s=$(sha256sum "$bin"); else s=$(shasum -a 256 "$bin"); fi',
  '  printf "sha=%s\\n" "${s%% *}"',
  'fi',
  'if [ -n "$3" ]; then c=$3; case $c in "~/"*) c=$HOME${c#"~"};; esac; if [ -e "$c" ]; then printf "custom=%s\\n" "$c"; fi; fi',
  'if [ -r "$dir/token" ]; then printf "token=%s\\n" "$(cat "$dir/token")"; fi',
].join('\n');

/** Verify an uploaded file: $1 path, $2 expected sha256. Exit 3 on mismatch. */
export const VERIFY = [
  'set -u',
  'if command -v sha256sum >/dev/null 2>&1; then s=$(sha256sum "$1"); else s=$(shasum -a 256 "$1"); fi',
  '[ "${s%% *}" = "$2" ] || { printf "sha256 mismatch: %s\\n" "${s%% *}" >&2; exit 3; }',
].join('\n');

/**
 * V8 heap settings for the daemon: a small young generation and an old-space cap make V8
 * collect sooner, keeping the daemon's RSS around 75 MB instead of 100+ MB after a few
 * thousand calls (bench/node-bench.ts), at no measurable cost per call.
 */
export const NODE_FLAGS = '--max-semi-space-size=2 --max-old-space-size=128';

/**
 * Start the daemon detached: $1 remote dir, $2 program (a .cjs/.js runs as `node FILE`,
 * so a noexec mount does not matter; anything else is executed), $3 port, then daemon
 * flags. The token arrives on stdin and goes to "$dir/token" (0600); the daemon reads it
 * with --auth-token-file. setsid + nohup + all stdio redirected: the daemon outlives
 * this shell and the SSH session, and holds none of the channel's file descriptors.
 * It runs from $HOME (never /tmp). Prints pid=N.
 */
export const START = [
  'set -eu',
  EXPAND_DIR,
  'prog=$2; port=$3; shift 3',
  'case $prog in "~/"*) prog=$HOME${prog#"~"};; esac',
  'umask 077',
  'mkdir -p "$dir"',
  'IFS= read -r token || true',
  'if [ -n "$token" ]; then printf "%s\\n" "$token" > "$dir/token.$$"; mv -f "$dir/token.$$" "$dir/token"; fi',
  'set -- "$@" --auth-token-file "$dir/token" --log-file "$dir/daemon-$port.log"',
  `case $prog in *.cjs|*.js|*.mjs) set -- node ${NODE_FLAGS} "$prog" --port "$port" "$@";; *) set -- "$prog" --port "$port" "$@";; esac`,
  'if command -v setsid >/dev/null 2>&1; then set -- setsid "$@"; fi',
  'cd "$HOME" 2>/dev/null || cd /',
  'nohup "$@" </dev/null >>"$dir/daemon-$port.out" 2>&1 &',
  'echo $! > "$dir/daemon-$port.pid"',
  'echo "pid=$!"',
].join('\n');

/** $1 remote dir, $2 port: is the daemon recorded in the pid file still running? Prints alive=0|1. */
export const PID_ALIVE = [
  'set -u',
  EXPAND_DIR,
  'p=$(cat "$dir/daemon-$2.pid" 2>/dev/null || true)',
  'if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then echo alive=1; else echo alive=0; fi',
].join('\n');

/** $1 remote dir, $2 port, $3 signal: signal the daemon recorded in the pid file. */
export const PID_KILL = [
  'set -u',
  EXPAND_DIR,
  'p=$(cat "$dir/daemon-$2.pid" 2>/dev/null || true)',
  'if [ -n "$p" ]; then kill "-$3" "$p" 2>/dev/null || true; fi',
].join('\n');

/** $1 remote dir, $2 port: the last lines of the daemon's output and log. */
export const LOG_TAIL = [
  'set -u',
  EXPAND_DIR,
  'tail -n 5 "$dir/daemon-$2.out" 2>/dev/null || true',
  'tail -n 5 "$dir/daemon-$2.log" 2>/dev/null || true',
].join('\n');

/** Parse key=value lines (values may contain '='). */
export function parseKeyValues(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}
