import { screenReader } from './screen-patterns.js';
import type { AgentPlugin } from './types.js';
import { withRules } from './rules.js';

/** OpenCode: the TUI takes an initial prompt with `--prompt`. No hooks: its screen says what it does. */
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
  activity: {
    hooks: 'none',
    readScreen: screenReader({
      waiting: /Permission required|Allow (once|always)/i,
      working: /esc (to )?interrupt|Working…/i,
      // Its input bar always shows these key hints while nothing runs.
      idle: /enter send|ctrl\+p commands|\/help/i,
    }),
  },
};
