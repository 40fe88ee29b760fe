/**
 * Request validation that protects the host: safe id names, and the daemon's confinement:
 * - it deletes only workspaces of the one shape it creates, `<root>/<project>/<session>`
 *   (never `<root>/<project>`, which holds every workspace of a project, nor anything
 *   reached through a symlink);
 * - it creates and runs things (CreateWorkspace `path`, CreateRuntime `cwd`) only inside
 *   its workspace root, or in a git repository that already exists (the project's own
 *   repository, which the orchestrator names).
 * Containment is checked twice — lexically (`..` segments, absolute paths elsewhere) and
 * on the real path (symlinks resolved with realpath), because `<root>/p/link -> /etc` is
 * lexically inside but really outside.
 */
import { realpath } from 'node:fs/promises';
import { posix } from 'node:path';
import { Code } from '@connectrpc/connect';
import { rpcError } from './errors.js';

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function assertSafeId(field: string, value: string): void {
  if (value === '') throw rpcError(Code.InvalidArgument, `${field} is required`, 'INVALID_ARGUMENT');
  if (!SAFE_ID.test(value)) {
    throw rpcError(
      Code.InvalidArgument,
      `${field} ${JSON.stringify(value)} is not a safe name: use 1-64 letters, digits, '-' or '_', starting with a letter or digit`,
      'INVALID_ARGUMENT',
    );
  }
}

/** `child` is strictly below `root` (both absolute and normalized). */
export function isStrictlyInside(root: string, child: string): boolean {
  const rel = posix.relative(root, child);
  return rel !== '' && !rel.startsWith('../') && rel !== '..' && !posix.isAbsolute(rel);
}

function denied(path: string, root: string, why: string): Error {
  return rpcError(Code.PermissionDenied, `refusing ${JSON.stringify(path)}: ${why} (workspace root is ${root})`, 'INVALID_ARGUMENT');
}

/** realpath of the deepest existing ancestor joined with the rest (for paths that do not exist). */
async function realpathAllowingMissing(path: string): Promise<{ real: string; exists: boolean }> {
  const missing: string[] = [];
  let cur = path;
  for (;;) {
    try {
      const real = await realpath(cur);
      return { real: posix.join(real, ...missing.reverse()), exists: missing.length === 0 };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || cur === '/') {
        // ENOTDIR, EACCES, ELOOP…: the path cannot be what the client says it is.
        throw rpcError(Code.FailedPrecondition, `${JSON.stringify(path)} is not usable on this host: ${code ?? String(err)}`, 'INVALID_ARGUMENT');
      }
      missing.push(posix.basename(cur));
      cur = posix.dirname(cur);
    }
  }
}

/** An absolute path without `..` segments, normalized (no trailing slash). */
function normalAbsolute(field: string, root: string, path: string): string {
  if (path === '') throw rpcError(Code.InvalidArgument, `${field} is required`, 'INVALID_ARGUMENT');
  if (path.split('/').includes('..')) throw denied(path, root, "'..' is not allowed");
  if (!posix.isAbsolute(path)) {
    throw rpcError(Code.InvalidArgument, `${field} ${JSON.stringify(path)} must be absolute`, 'INVALID_ARGUMENT');
  }
  return posix.normalize(path).replace(/\/+$/, '') || '/';
}

/**
 * Check that a workspace path given by a client may be deleted: exactly
 * `<root>/<project>/<session>` (root already realpath'ed, both names safe ids), and the
 * same path after resolving symlinks — no component of it may be a link.
 */
export async function resolveDeletablePath(root: string, path: string): Promise<{ real: string; exists: boolean }> {
  const normal = normalAbsolute('workspace_path', root, path);
  if (!isStrictlyInside(root, normal)) throw denied(path, root, 'it is outside the workspace root');
  const parts = posix.relative(root, normal).split('/');
  if (parts.length !== 2 || !parts.every((p) => SAFE_ID.test(p))) {
    throw denied(path, root, 'only a workspace <workspace root>/<project_id>/<session_id> may be destroyed');
  }
  const resolved = await realpathAllowingMissing(normal);
  if (resolved.real !== normal) throw denied(path, root, `it resolves to ${resolved.real} (through a symlink)`);
  return resolved;
}

/**
 * Where a client may have the daemon create or run something (CreateWorkspace `path`,
 * CreateRuntime `cwd`): the workspace root or below it, or an existing git repository
 * (`isRepo`, asked of the real path) — also after resolving symlinks. Returns the real
 * path (for a path that does not exist yet: its real parent joined with the rest).
 */
export async function resolveConfinedPath(root: string, field: string, path: string, isRepo: (real: string) => Promise<boolean>): Promise<string> {
  const normal = normalAbsolute(field, root, path);
  const { real } = await realpathAllowingMissing(normal);
  if (real === root || isStrictlyInside(root, real)) return real;
  if (await isRepo(real)) return real;
  const where = real === normal ? '' : ` (it resolves to ${real})`;
  throw denied(path, root, `${field} must be inside the workspace root or an existing git repository${where}`);
}
