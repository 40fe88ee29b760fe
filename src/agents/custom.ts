import { EnnioError } from '../core/errors.js';
import type { AgentPlugin } from './types.js';
import { withRules } from './rules.js';
import { genericPrompt, screenReader } from './screen-patterns.js';

/**
 * Any command line (`agent_config.command`), run through `sh -c` so users can write
 * pipes and arguments naturally; it is their own config, not untrusted input. The
 * prompt is typed in as the first message once the program is up. Its activity is read
 * from the screen: a question or a prompt on the last line.
 */
export const custom: AgentPlugin = {
  name: 'custom',
  program(config) {
    // Check the first word only when it is a plain word; anything fancier is the shell's business.
    const first = config.command?.trim().split(/\s+/)[0];
    return first && /^[A-Za-z0-9_./+-]+$/.test(first) ? first : undefined;
  },
  launch({ config, rules, prompt }) {
    if (!config.command) {
      throw new EnnioError('CONFIG_INVALID', 'agent "custom" needs agent_config.command', {
        hint: 'add to the project: agent_config: { command: "your-program --flags" }',
      });
    }
    const command = ['sh', '-c', config.args.length ? `${config.command} "$@"` : config.command, 'ennio-agent', ...config.args];
    const text = withRules(rules, prompt);
    return { command, ...(text ? { typedPrompt: text } : {}) };
  },
  activity: { hooks: 'none', readScreen: screenReader(genericPrompt) },
};
