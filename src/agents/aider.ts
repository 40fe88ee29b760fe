import { screenReader } from './screen-patterns.js';
import type { AgentPlugin } from './types.js';

const RULES_FILE = '.ennio/aider-rules.md';

/**
 * Aider: `--message` would run once and exit, so the prompt is typed as the first
 * message of the interactive chat. Rules go in a read-only context file (`--read`).
 * No hooks: its screen says what it does.
 */
export const aider: AgentPlugin = {
  name: 'aider',
  program: () => 'aider',
  launch({ config, rules, prompt, workspace }) {
    const command = ['aider'];
    if (config.model) command.push('--model', config.model);
    if (config.permissions === 'skip' || config.permissions === 'accept_edits') command.push('--yes-always');
    const files = [];
    if (rules) {
      files.push({ path: `${workspace}/${RULES_FILE}`, content: rules });
      command.push('--read', RULES_FILE);
    }
    command.push(...config.args);
    return { command, files, ...(prompt ? { typedPrompt: prompt } : {}) };
  },
  activity: {
    hooks: 'none',
    readScreen: screenReader({
      // "Add file to the chat? (Y)es/(N)o/(D)on't ask again [Yes]:"
      waiting: /\(Y\)es\/\(N\)o|\[(Yes|No)\]:\s*$/,
      working: /Waiting for \S+|Thinking…|Tokens: .* sent/,
      // "> ", "architect> ", "multi> ".
      idle: /^(\w+)?>$/,
      lastLines: 1,
    }),
  },
};
