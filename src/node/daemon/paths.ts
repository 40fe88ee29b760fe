/**
 * Request validation that protects the host: safe id names, and the rule that the daemon
 * only ever deletes inside its workspace root. Containment is checked twice — lexically
 * (`..` segments, absolute paths elsewhere) and on the real path (symlinks resolved with
 * realpath), because `<root>/p/link -> /etc` is lexically inside but really outside.
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
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || cur === '/') throw err;
      missing.push(posix.basename(cur));
      cur = posix.dirname(cur);
    }
  }
}

/**
 * Check that a workspace path given by a client may be deleted: absolute, no `..`,
 * strictly inside `root` (already realpath'ed) also after resolving symlinks.
 */
export async function resolveDeletablePath(root: string, path: string): Promise<{ real: string; exists: boolean }> {
  if (path === '') throw rpcError(Code.InvalidArgument, 'workspace_path is required', 'INVALID_ARGUMENT');
  if (path.split('/').includes('..')) throw denied(path, root, "'..' is not allowed");
  if (!posix.isAbsolute(path)) {
    throw rpcError(Code.InvalidArgument, `workspace_path ${JSON.stringify(path)} must be absolute`, 'INVALID_ARGUMENT');
  }
  const normal = posix.normalize(path).replace(/\/+$/, '');
  if (!isStrictlyInside(root, normal)) throw denied(path, root, 'it is outside the workspace root');
  const resolved = await realpathAllowingMissing(normal);
  if (!isStrictlyInside(root, resolved.real)) throw denied(path, root, `it resolves to ${resolved.real}, outside the workspace root`);
  return resolved;
}
