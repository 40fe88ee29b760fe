/** `ennio wait <id>… [--for …] [--timeout S]`: exit 0 when every session got there, 124 when the time ran out. */
import type { Command } from 'commander';
import type { WaitFor } from '../api/contract.js';
import { EnnioError } from '../core/errors.js';
import { withApi } from './api-link.js';
import type { GlobalOptions } from './context.js';
import { printJson } from './output.js';

const WAIT_FOR: readonly WaitFor[] = ['idle', 'waiting_input', 'exited', 'any'];

function parseTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new EnnioError('INVALID_ARGUMENT', `--timeout expects a number of seconds above 0, got ${JSON.stringify(value)}`);
  return n;
}

export function registerWaitCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('wait')
    .description('block until sessions reach an activity: exit 0, or 124 when --timeout passes first')
    .argument('<id...>', 'session ids')
    .option('--for <activity>', `${WAIT_FOR.join(' | ')} (any: the agent stopped working)`, 'any')
    .option('--timeout <seconds>', 'give up after this many seconds (exit 124)')
    .action((ids: string[], opts: { for: string; timeout?: string }) =>
      withApi(globals(), async (api) => {
        if (!WAIT_FOR.includes(opts.for as WaitFor)) {
          throw new EnnioError('INVALID_ARGUMENT', `--for expects one of ${WAIT_FOR.join(', ')}, got ${JSON.stringify(opts.for)}`);
        }
        const timeout = parseTimeout(opts.timeout);
        const result = await api.wait({ ids, for: opts.for as WaitFor, ...(timeout !== undefined ? { timeout } : {}) });
        if (globals().json) return printJson(result);
        process.stdout.write(result.sessions.map((s) => `${s.id} ${s.activity} since ${s.activity_since}`).join('\n') + '\n');
      }),
    );
}
