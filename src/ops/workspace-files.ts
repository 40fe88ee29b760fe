/** Files inside a workspace on any Host, for agent plugins that install hooks (src/agents/types.ts WorkspaceFiles). */
import type { WorkspaceFiles } from '../agents/types.js';
import { EnnioError } from '../core/errors.js';
import type { Host } from '../host/host.js';
import { joinPath } from './fs.js';

const MISSING = 3;

// Written beside and renamed over: a symlink (say, to the main checkout's file) is
// replaced by a file of its own instead of being written through.
const WRITE = 'umask 077 && mkdir -p -- "$(dirname -- "$1")" && cat > "$1.ennio-tmp" && mv -f -- "$1.ennio-tmp" "$1"';

// info/exclude of the repository (a worktree shares its main repository's); one line per path.
const EXCLUDE =
  'e=$(git -C "$1" rev-parse --git-path info/exclude) || exit 1; case $e in /*) ;; *) e="$1/$e" ;; esac; ' +
  'mkdir -p -- "$(dirname -- "$e")" && { grep -qxF -- "$2" "$e" 2>/dev/null || printf "%s\\n" "$2" >> "$e"; }';

export function workspaceFiles(host: Host, workspace: string): WorkspaceFiles {
  const fail = (what: string, path: string, stderr: string): EnnioError =>
    new EnnioError('COMMAND_FAILED', `could not ${what} ${path} on ${host.label}: ${stderr.trim()}`);
  return {
    async read(relPath) {
      const path = joinPath(workspace, relPath);
      const res = await host.exec(['sh', '-c', `[ -e "$1" ] || exit ${MISSING}; cat -- "$1"`, 'ennio-read', path]);
      if (res.code === MISSING) return undefined;
      if (res.code !== 0) throw fail('read', path, res.stderr);
      return res.stdout;
    },
    async write(relPath, content) {
      const path = joinPath(workspace, relPath);
      const res = await host.exec(['sh', '-c', WRITE, 'ennio-write', path], { input: content });
      if (res.code !== 0) throw fail('write', path, res.stderr);
    },
    async excludeFromGit(relPath) {
      const res = await host.exec(['sh', '-c', EXCLUDE, 'ennio-exclude', workspace, `/${relPath}`]);
      if (res.code !== 0) throw fail('add to info/exclude', relPath, res.stderr);
    },
  };
}
