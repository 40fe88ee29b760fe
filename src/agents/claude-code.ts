import type { AgentPlugin } from './types.js';

/** Claude Code: `claude [options] [prompt]` starts an interactive session with that prompt. */
export const claudeCode: AgentPlugin = {
  name: 'claude-code',
  program: () => 'claude',
  launch({ config, rules, prompt }) {
    const command = ['claude'];
    if (config.model) command.push('--model', config.model);
    if (config.permissions === 'skip') command.push('--dangerously-skip-permissions');
    else if (config.permissions === 'accept_edits') command.push('--permission-mode', 'acceptEdits');
    if (rules) command.push('--append-system-prompt', rules);
    command.push(...config.args);
    if (prompt) command.push('--', prompt);
    return { command };
  },
};
