import type { AgentPlugin } from './types.js';
import { withRules } from './rules.js';

/** OpenCode: the TUI takes an initial prompt with `--prompt`. */
export const opencode: AgentPlugin = {
  name: 'opencode',
  program: () => 'opencode',
  launch({ config, rules, prompt }) {
    const command = ['opencode'];
    if (config.model) command.push('--model', config.model);
    command.push(...config.args);
    const text = withRules(rules, prompt);
    if (text) command.push('--prompt', text);
    return { command };
  },
};
