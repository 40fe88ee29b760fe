/**
 * A spawn whose process died before it could roll back (killed -9, machine lost): `session
 * cleanup` removes it, and only once its spawner is gone — never a spawn still running.
 */
import { sameProcessAlive } from '../core/proc.js';
import { exists } from '../ops/fs.js';
import { branchExists } from '../ops/git-workspace.js';
import { handleOf } from '../strategies/handle-of.js';
import type { EventRepo } from '../store/events.js';
import type { SessionRecord, SessionRepo } from '../store/sessions.js';
import type { Backend } from '../strategies/types.js';

/**
 * Whether the process that is spawning this record has died without rolling back. Records
 * written before the spawner was recorded count as dead after a day.
 */
export function spawnerGone(record: SessionRecord): boolean {
  const spawner = (record.info ? (JSON.parse(record.info) as { spawner?: { pid: number; start: string } }) : {}).spawner;
  if (!spawner) return Date.now() - Date.parse(record.created_at) > 24 * 3_600_000;
  return !sameProcessAlive(spawner.pid, spawner.start);
}

/**
 * Stop whatever agent the dead spawn started, free its slot, remove its workspace and its
 * ennio-named branch, forget the record. Its runtime handle was recorded only if the spawn
 * got that far, so the runtime derives it from the session id (the agent may be running
 * already although its spawn never returned).
 */
export async function dropStaleSpawn(s: SessionRecord, backend: Backend, sessions: SessionRepo, events: EventRepo): Promise<string> {
  const handle = s.runtime_handle ? handleOf(s) : await backend.runtime.handleFor(s.id);
  if (handle) await backend.runtime.destroy(handle);
  if (await exists(backend.host, s.workspace_path)) {
    await backend.workspaces.remove({ type: s.workspace_type, repoPath: s.repo_path, workspacePath: s.workspace_path });
  }
  if (s.branch === `ennio/${s.id}` && s.workspace_type === 'worktree' && (await branchExists(backend.host, s.repo_path, s.branch))) {
    await backend.workspaces.deleteBranch(s.repo_path, s.branch);
  }
  sessions.delete(s.id);
  events.append(s.id, 'error', { during: 'cleanup', message: 'removed a spawn that never finished' });
  return s.id;
}
