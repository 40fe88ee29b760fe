import { CLAUDE_SETTINGS, mergeClaudeHooks } from './claude-hooks.js';
import { screenReader } from './screen-patterns.js';
import type { AgentPlugin } from './types.js';

/**
 * Claude Code: `claude [options] [prompt]` starts an interactive session with that prompt;
 * `--resume <session_id>` continues a conversation (restore). Activity comes from its hooks
 * (.claude/settings.local.json); the screen only corrects what hooks miss (Esc fires no Stop).
 */
export const claudeCode: AgentPlugin = {
  name: 'claude-code',
  program: () => 'claude',
  launch({ config, rules, prompt, resume }) {
    const command = ['claude'];
    if (resume) command.push('--resume', resume);
    if (config.model) command.push('--model', config.model);
    if (config.permissions === 'skip') command.push('--dangerously-skip-permissions');
    else if (config.permissions === 'accept_edits') command.push('--permission-mode', 'acceptEdits');
    if (rules) command.push('--append-system-prompt', rules);
    command.push(...config.args);
    if (prompt) command.push('--', prompt);
    return { command };
  },
  activity: {
    hooks: 'full',
    readScreen: screenReader({
      // The permission dialog ("Do you want to proceed?  ❯ 1. Yes") and questions with numbered choices.
      waiting: /Do you want to |Would you like to |❯\s*1\.\s/,
      // The spinner line: "✻ Cogitating… (12s · esc to interrupt)".
      working: /esc to interrupt/i,
      // The input box ("│ > ", or "> " between rules in newer versions).
      idle: /^\s*[│|]?\s*>(\s|$)|\? for shortcuts/m,
    }),
    async installHooks(files, paths) {
      await files.write(CLAUDE_SETTINGS, mergeClaudeHooks(await files.read(CLAUDE_SETTINGS), paths));
      await files.excludeFromGit(CLAUDE_SETTINGS);
    },
  },
};
