import { codexNotifyArgv } from '../activity/hook-script.js';
import { screenReader } from './screen-patterns.js';
import type { AgentPlugin } from './types.js';
import { withRules } from './rules.js';

/**
 * OpenAI Codex CLI: `codex [options] [PROMPT]` opens the TUI with that prompt; `codex
 * resume <id>` continues a conversation. Its `notify` program reports the end of each turn
 * (with the thread id); the screen says when it works or asks.
 */
export const codex: AgentPlugin = {
  name: 'codex',
  program: () => 'codex',
  launch({ config, rules, prompt, activity, resume }) {
    const command = ['codex'];
    // -c (a TOML value) before the subcommand, where codex reads its config overrides.
    if (activity) command.push('-c', `notify=${JSON.stringify(codexNotifyArgv(activity.hookScript, activity.stateFile))}`);
    if (resume) command.push('resume', resume);
    if (config.model) command.push('--model', config.model);
    if (config.permissions === 'skip') command.push('--dangerously-bypass-approvals-and-sandbox');
    else if (config.permissions === 'accept_edits') command.push('--full-auto');
    command.push(...config.args);
    const text = resume ? undefined : withRules(rules, prompt);
    if (text) command.push('--', text);
    return { command };
  },
  activity: {
    hooks: 'turn_end',
    readScreen: screenReader({
      waiting: /Allow command\?|Apply changes\?|Would you like to |\b(Yes|Approve)\b.*\(y\)/,
      working: /esc to interrupt/i,
      idle: /^\s*[▌›]\s?|⏎ send/m,
    }),
  },
};
