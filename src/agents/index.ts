import { EnnioError } from '../core/errors.js';
import type { AgentName } from '../config/schema.js';
import { aider } from './aider.js';
import { claudeCode } from './claude-code.js';
import { codex } from './codex.js';
import { custom } from './custom.js';
import { opencode } from './opencode.js';
import type { AgentPlugin } from './types.js';

const registry: ReadonlyMap<string, AgentPlugin> = new Map(
  [claudeCode, aider, codex, opencode, custom].map((a) => [a.name, a]),
);

export function agentPlugin(name: AgentName | string): AgentPlugin {
  const plugin = registry.get(name);
  if (!plugin) {
    throw new EnnioError('INVALID_ARGUMENT', `unknown agent ${JSON.stringify(name)}`, {
      hint: `use one of: ${[...registry.keys()].join(', ')}`,
    });
  }
  return plugin;
}

export const agentNames = (): string[] => [...registry.keys()];
