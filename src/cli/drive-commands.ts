/** send, logs, attach: talking to a running session (send and logs bodies: hot-actions.ts). */
import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { EnnioError } from '../core/errors.js';
import { withApi } from './api-link.js';
import type { GlobalOptions } from './context.js';
import { logsBody, messageFrom, sendBody } from './hot-actions.js';

export function registerDriveCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('send')
    .description('type a message into a session and submit it; options go before <id>, every word after it is the message')
    .argument('<id>')
    .argument('[message...]', 'the message, taken as typed even if it starts with - (or use --file, or stdin)')
    .option('-f, --file <path>', 'read the message from a file (- for stdin); before <id>')
    .action((id: string, words: string[], opts: { file?: string }) =>
      withApi(globals(), async (api) => sendBody(api, globals(), id, await messageFrom(words, opts.file))),
    );

  program
    .command('logs')
    .description('recent output of a session')
    .argument('<id>')
    .option('-n, --lines <n>', 'how many lines', '50')
    .option('-f, --follow', 'keep printing new output until interrupted')
    .action((id: string, opts: { lines: string; follow?: boolean }) => withApi(globals(), (api) => logsBody(api, globals(), id, opts)));

  program
    .command('attach')
    .description('open the session interactively (detach with Ctrl-b d)')
    .argument('<id>')
    .action((id: string) =>
      withApi(globals(), async (api) => {
        const argv = await api.attachArgv(id);
        if (!process.stdin.isTTY) {
          throw new EnnioError('INVALID_ARGUMENT', 'attach needs an interactive terminal', { hint: `run it in a terminal, or run: ${argv.join(' ')}` });
        }
        const res = spawnSync(argv[0]!, argv.slice(1), { stdio: 'inherit' });
        if (res.error) throw new EnnioError('TOOL_MISSING', `cannot run ${argv[0]}: ${res.error.message}`);
        process.exitCode = res.status ?? 1;
      }),
    );
}
