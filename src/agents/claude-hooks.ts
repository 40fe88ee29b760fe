/**
 * Claude Code's hooks in a workspace's `.claude/settings.local.json` (not committed: ennio
 * also lists it in the repository's info/exclude). Merged, never clobbered: the user's own
 * settings and hooks stay as they are; ennio's entries are recognised by its hook script's
 * name and replaced on every launch, so an upgraded script takes over.
 */
import { EnnioError } from '../core/errors.js';
import { claudeHookCommand } from '../activity/hook-script.js';
import type { ActivityPaths } from './types.js';

export const CLAUDE_SETTINGS = '.claude/settings.local.json';

export const CLAUDE_HOOK_EVENTS = [
  'SessionStart', 'UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'Notification', 'Stop', 'SubagentStop', 'SessionEnd',
] as const;

const OURS = /ennio-hook-[0-9a-f]+\.sh/;

interface HookEntry {
  type?: string;
  command?: string;
  [k: string]: unknown;
}
interface MatcherGroup {
  matcher?: string;
  hooks?: HookEntry[];
  [k: string]: unknown;
}
type Settings = Record<string, unknown> & { hooks?: Record<string, MatcherGroup[]> };

function parse(text: string | undefined, where: string): Settings {
  if (text === undefined || text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new EnnioError('CONFIG_INVALID', `${where} is not valid JSON (${(err as Error).message}); ennio cannot add its activity hooks to it`, {
      hint: `fix or remove ${where} in the workspace, then restore the session`,
    });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new EnnioError('CONFIG_INVALID', `${where} does not hold a JSON object; ennio cannot add its activity hooks to it`);
  }
  return value as Settings;
}

/** The user's groups of one event without ennio's hooks (a group left empty goes). */
function withoutOurs(groups: MatcherGroup[] | undefined): MatcherGroup[] {
  const kept: MatcherGroup[] = [];
  for (const group of groups ?? []) {
    if (!Array.isArray(group.hooks)) {
      kept.push(group);
      continue;
    }
    const hooks = group.hooks.filter((h) => !(typeof h.command === 'string' && OURS.test(h.command)));
    if (hooks.length > 0) kept.push({ ...group, hooks });
  }
  return kept;
}

/** The settings text with ennio's hooks for every event merged in. */
export function mergeClaudeHooks(existing: string | undefined, paths: ActivityPaths, where = CLAUDE_SETTINGS): string {
  const settings = parse(existing, where);
  const hooks: Record<string, MatcherGroup[]> = { ...(settings.hooks ?? {}) };
  for (const event of CLAUDE_HOOK_EVENTS) {
    const group: MatcherGroup = {
      // Tool events match every tool; the others take no matcher.
      ...(event === 'PreToolUse' || event === 'PostToolUse' ? { matcher: '*' } : {}),
      hooks: [{ type: 'command', command: claudeHookCommand(paths.hookScript, paths.stateFile, event), timeout: 10 }],
    };
    hooks[event] = [...withoutOurs(hooks[event]), group];
  }
  return `${JSON.stringify({ ...settings, hooks }, null, 2)}\n`;
}
