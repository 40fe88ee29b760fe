import type { AgentPlugin } from './types.js';
import { withRules } from './rules.js';

/** OpenAI Codex CLI: `codex [options] [PROMPT]` opens the TUI with that prompt. */
export const codex: AgentPlugin = {
  name: 'codex',
  program: () => 'codex',
  launch({ config, rules, prompt }) {
    const command = ['codex'];
    if (config.model) command.push('--model', config.model);
    if (config.permissions === 'skip') command.push('--dangerously-bypass-approvals-and-sandbox');
    else if (config.permissions === 'accept_edits') command.push('--full-auto');
    command.push(...config.args);
    const text = withRules(rules, prompt);
    if (text) command.push('--', text);
    return { command };
  },
};
