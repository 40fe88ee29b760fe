/** File-system operations as argv, so they run the same on any Host. */
import { EnnioError } from '../core/errors.js';
import { execChecked, type Host } from '../host/host.js';

export const mkdirArgv = (dir: string): string[] => ['mkdir', '-p', '--', dir];
export const removeTreeArgv = (path: string): string[] => ['rm', '-rf', '--', path];
export const existsArgv = (path: string): string[] => ['test', '-e', path];

export async function exists(host: Host, path: string): Promise<boolean> {
  const res = await host.exec(existsArgv(path));
  return res.code === 0;
}

export async function mkdirp(host: Host, dir: string): Promise<void> {
  await execChecked(host, mkdirArgv(dir));
}

export async function removeTree(host: Host, path: string): Promise<void> {
  await execChecked(host, removeTreeArgv(path));
}

/** Join POSIX paths (remote hosts are POSIX; node:path would use this machine's rules). */
export function joinPath(...parts: string[]): string {
  return parts
    .filter((p) => p !== '')
    .join('/')
    .replace(/\/{2,}/g, '/');
}

/** Expand a leading ~ against the home directory of the host the path lives on. */
export async function expandHome(host: Host, path: string): Promise<string> {
  if (path === '~') return host.homeDir();
  if (path.startsWith('~/')) return joinPath(await host.homeDir(), path.slice(2));
  return path;
}

/**
 * Create a symlink inside the workspace. `source` is relative to the project's main
 * repository (or absolute); `target` is relative to the workspace and must stay inside it.
 */
export async function createSymlink(host: Host, repoPath: string, workspace: string, source: string, target: string): Promise<void> {
  if (target.startsWith('/') || target.split('/').includes('..')) {
    throw new EnnioError('INVALID_ARGUMENT', `symlink target ${JSON.stringify(target)} must be a relative path inside the workspace`);
  }
  const from = source.startsWith('/') ? source : joinPath(repoPath, source);
  const to = joinPath(workspace, target);
  const parent = to.split('/').slice(0, -1).join('/');
  if (parent) await mkdirp(host, parent);
  await execChecked(host, ['ln', '-sfn', '--', from, to]);
}

/** Write `content` to `path` on the host (parent created), readable by its owner only. */
export async function writeFileOn(host: Host, path: string, content: string): Promise<void> {
  const res = await host.exec(['sh', '-c', 'umask 077 && mkdir -p -- "$(dirname -- "$1")" && cat > "$1"', 'ennio-write', path], { input: content });
  if (res.code !== 0) throw new EnnioError('COMMAND_FAILED', `could not write ${path} on ${host.label}: ${res.stderr.trim()}`);
}
