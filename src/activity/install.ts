/**
 * Before an agent starts: its hook script on the host (written once per script version,
 * renamed into place so a running hook never reads a half-written file) and an empty state
 * file (a new process starts a new history; the tracker's cursor starts at 0 with it).
 */
import type { ActivityPaths } from '../agents/types.js';
import { EnnioError } from '../core/errors.js';
import type { Host } from '../host/host.js';
import { expandHome } from '../ops/fs.js';
import { HOOK_SCRIPT, hookScriptPath, stateFilePath } from './hook-script.js';

const PREPARE =
  'umask 077 && mkdir -p -- "${1%/*}" "${2%/*}" && : > "$2" && ' +
  'if [ -f "$1" ]; then cat >/dev/null; else cat > "$1.$$.tmp" && mv -f -- "$1.$$.tmp" "$1"; fi';

const pathsIn = (dir: string, sessionId: string): ActivityPaths => ({ hookScript: hookScriptPath(dir), stateFile: stateFilePath(dir, sessionId) });

/** Where a session's hook script and state file are on its host (~ expanded there). */
export async function activityPaths(host: Host, dataDir: string, sessionId: string): Promise<ActivityPaths> {
  return pathsIn(await expandHome(host, dataDir), sessionId);
}

/** activityPaths of many sessions on one host: each distinct data dir is expanded once. */
export async function activityPathsOfMany(host: Host, sessions: ReadonlyArray<{ dataDir: string; sessionId: string }>): Promise<ActivityPaths[]> {
  const dirs = new Map<string, string>();
  for (const dataDir of new Set(sessions.map((s) => s.dataDir))) dirs.set(dataDir, await expandHome(host, dataDir));
  return sessions.map(({ dataDir, sessionId }) => pathsIn(dirs.get(dataDir)!, sessionId));
}

export async function prepareActivity(host: Host, dataDir: string, sessionId: string): Promise<ActivityPaths> {
  const paths = await activityPaths(host, dataDir, sessionId);
  const res = await host.exec(['sh', '-c', PREPARE, 'ennio-activity', paths.hookScript, paths.stateFile], { input: HOOK_SCRIPT });
  if (res.code !== 0) {
    throw new EnnioError('COMMAND_FAILED', `could not prepare the activity hook on ${host.label}: ${res.stderr.trim()}`, {
      hint: `check that ${dataDir} on ${host.label} is writable`,
    });
  }
  return paths;
}
