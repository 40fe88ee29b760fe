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
 * so a noexec mount does not matter; anything else is executed), $3 port, $4 token
 * policy, $5 launch style, then daemon flags. Prints pid=N and token=T (see below).
 *
 * The token arrives on stdin. "$dir/token" (0600) is the one token every daemon started
 * from this directory uses, so two orchestrators deploying at once can never leave the
 * file and the running daemon disagreeing:
 * - policy `create` (generated tokens): the file is created only when missing — written
 *   to a temp file and hard-linked into place, which is atomic and fails when the file
 *   exists — so the first writer wins and everyone else adopts its token;
 * - policy `replace` (node_config.auth_token): the file is replaced (atomic rename).
 * Either way the file is read back AFTER that and printed as token=…: it is the token
 * the daemon gets, and the one the orchestrator must use.
 *
 * Launch styles:
 * - `bundle` (our uploaded ennio-node.cjs): --auth-token-file "$dir/token" and
 *   --log-file "$dir/daemon-<port>.log"; stdout/stderr go to daemon-<port>.out;
 * - `binary` (node_config.ennio_binary_path, which may be another implementation): only
 *   the spec's interface — the token in ENNIO_NODE_AUTH_TOKEN (never argv), stdout and
 *   stderr appended to daemon-<port>.log by the shell.
 *
 * setsid + nohup + all stdio redirected: the daemon outlives this shell and the SSH
 * session, and holds none of the channel's file descriptors. It runs from $HOME (never
 * /tmp). printf is a shell builtin, so the token is in no process's argv here either.
 */
export const START = [
  'set -eu',
  EXPAND_DIR,
  'prog=$2; port=$3; policy=$4; style=$5; shift 5',
  'case $prog in "~/"*) prog=$HOME${prog#"~"};; esac',
  'umask 077',
  'mkdir -p "$dir"',
  'IFS= read -r token || true',
  'if [ -n "$token" ]; then',
  '  printf "%s\\n" "$token" > "$dir/token.$$"',
  '  if [ "$policy" = replace ]; then mv -f "$dir/token.$$" "$dir/token"',
  '  else ln "$dir/token.$$" "$dir/token" 2>/dev/null || true; rm -f "$dir/token.$$"; fi',
  'fi',
  'token=$(cat "$dir/token" 2>/dev/null || true)',
  'if [ -z "$token" ]; then echo "no auth token in $dir/token" >&2; exit 3; fi',
  'if [ "$style" = bundle ]; then',
  '  set -- "$@" --auth-token-file "$dir/token" --log-file "$dir/daemon-$port.log"; out=$dir/daemon-$port.out',
  'else',
  '  ENNIO_NODE_AUTH_TOKEN=$token; export ENNIO_NODE_AUTH_TOKEN; out=$dir/daemon-$port.log',
  'fi',
  `case $prog in *.cjs|*.js|*.mjs) set -- node ${NODE_FLAGS} "$prog" --port "$port" "$@";; *) set -- "$prog" --port "$port" "$@";; esac`,
  'if command -v setsid >/dev/null 2>&1; then set -- setsid "$@"; fi',
  'cd "$HOME" 2>/dev/null || cd /',
  'nohup "$@" </dev/null >>"$out" 2>&1 &',
  'echo $! > "$dir/daemon-$port.pid"',
  'printf "pid=%s\\ntoken=%s\\n" "$!" "$token"',
].join('\n');

/**
 * Shell functions that name a process so that pid reuse is noticed: "<pid>.<start time>"
 * (field 22 of /proc/<pid>/stat, clock ticks since boot). `proc_start P` prints the start
 * time of a live process P (nothing for a missing or zombie one); `connection_holder`
 * prints "<pid>.<start>" of the sshd process serving the SSH connection this script runs
 * on (the first ancestor whose comm is sshd…), or nothing without /proc. That process
 * lives exactly as long as the deployer's connection: an ennio killed mid-deploy closes
 * its socket and sshd exits at once.
 */
const PROC_FUNCTIONS = [
  // The comm field (2) may contain spaces and parentheses: fields count from after its last ") ".
  'proc_field() { s=$(cat "/proc/$1/stat" 2>/dev/null) || return 0; k=$2; s=${s##*) }; set -f; set -- $s; set +f; [ $# -gt "$k" ] || return 0; shift "$k"; printf %s "$1"; }',
  'proc_start() { case $(proc_field "$1" 0) in ""|Z|X) return 0;; esac; proc_field "$1" 19; }',
  'connection_holder() {',
  '  [ -r /proc/self/stat ] || return 0',
  '  p=$PPID; n=0',
  '  while [ "$n" -lt 32 ] && [ -n "$p" ] && [ "$p" -gt 1 ]; do',
  '    case $(cat "/proc/$p/comm" 2>/dev/null) in sshd*) printf %s.%s "$p" "$(proc_start "$p")"; return 0;; esac',
  '    p=$(proc_field "$p" 1); n=$((n + 1))',
  '  done',
  '}',
].join('\n');

/**
 * The deploy lock, so two orchestrators never probe→upload→start at the same time:
 * $1 remote dir, $2 port, $3 owner id (random, no dots), $4 seconds after which a lock
 * whose holder cannot be checked is stale. The lock is a symlink "deploy-<port>.lock" →
 * "<owner>.<epoch seconds>.<holder pid>.<holder start time>.<hostname>" (the holder is
 * the sshd process of the deployer's SSH connection, see PROC_FUNCTIONS): creating a
 * symlink is atomic and fails when it exists, and it carries everything in one object
 * (no half-written lock to misread). Prints lock=1 (ours now), or lock=0 with holder=…
 * and alive=1|0|? (? = cannot be checked from here: no /proc, another hostname, a lock
 * without holder).
 *
 * A lock whose holder is gone (no such process, or the pid now belongs to a process that
 * started at another time) is broken at once; a live holder is waited for however long
 * it takes; an unverifiable one is broken after $4 seconds. Breaking re-checks that the
 * lock is still the one judged just before removing it (broke=…); two orchestrators
 * breaking the same lock in the same instant is the one window left.
 */
export const LOCK = [
  'set -u',
  EXPAND_DIR,
  PROC_FUNCTIONS,
  'umask 077',
  'mkdir -p "$dir"',
  'lock=$dir/deploy-$2.lock; me=$3; stale=$4; now=$(date +%s); host=$(uname -n)',
  'holder=$(connection_holder)',
  'mine=$me.$now; if [ -n "$holder" ]; then mine=$mine.$holder.$host; fi',
  'if ln -s "$mine" "$lock" 2>/dev/null; then echo lock=1; exit 0; fi',
  'held=$(readlink "$lock" 2>/dev/null || true)',
  'IFS=. read -r _owner since hpid hstart hhost <<EOF',
  '$held',
  'EOF',
  'case $since in ""|*[!0-9]*) since=$now;; esac',
  'alive="?"',
  'case $hpid in ""|*[!0-9]*) ;; *) if [ "$hhost" = "$host" ] && [ -r /proc/self/stat ]; then',
  '  if [ -n "$hstart" ] && [ "$(proc_start "$hpid")" = "$hstart" ]; then alive=1; else alive=0; fi',
  'fi;; esac',
  'if { [ "$alive" = 0 ] || { [ "$alive" = "?" ] && [ $((now - since)) -gt "$stale" ]; }; } && [ "$(readlink "$lock" 2>/dev/null || true)" = "$held" ]; then',
  '  rm -f "$lock"',
  '  if ln -s "$mine" "$lock" 2>/dev/null; then printf "lock=1\\nbroke=%s\\n" "$held"; exit 0; fi',
  '  held=$(readlink "$lock" 2>/dev/null || true); alive="?"',
  'fi',
  'printf "lock=0\\nholder=%s\\nalive=%s\\n" "$held" "$alive"',
].join('\n');

/** $1 remote dir, $2 port, $3 owner id: release the deploy lock if it is still ours. */
export const UNLOCK = [
  'set -u',
  EXPAND_DIR,
  'lock=$dir/deploy-$2.lock',
  'case $(readlink "$lock" 2>/dev/null || true) in "$3".*) rm -f "$lock";; esac',
].join('\n');

/**
 * Who listens on the remote 127.0.0.1:$1? Prints listen=ours|none|unknown or
 * listen=other:<uid>. Reads /proc/net/tcp{,6} (Linux): LISTEN sockets (state 0A) on
 * that port whose address receives connections to 127.0.0.1 — 127.0.0.1 itself (either
 * byte order), the IPv4/IPv6 wildcard, or ::ffff:127.0.0.1 — compared with `id -u`.
 * Without /proc (BSD, macOS) it prints listen=unknown and the caller warns.
 */
export const LISTENER = [
  'set -u',
  'if [ ! -r /proc/net/tcp ]; then echo listen=unknown; exit 0; fi',
  'me=$(id -u); hex=$(printf %04X "$1"); files=/proc/net/tcp',
  'if [ -r /proc/net/tcp6 ]; then files="$files /proc/net/tcp6"; fi',
  `awk -v p="$hex" -v me="$me" '`,
  '  $4 == "0A" {',
  '    n = split($2, a, ":"); if (a[n] != p) next; addr = a[1]',
  '    if (addr ~ /^0+$/ || addr == "0100007F" || addr == "7F000001" || addr == "0000000000000000FFFF00000100007F" || addr == "00000000000000000000FFFF7F000001") {',
  '      if ($8 == me) ours = 1; else other = $8',
  '    }',
  '  }',
  '  END { if (other != "") print "listen=other:" other; else if (ours) print "listen=ours"; else print "listen=none" }',
  "' $files",
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
