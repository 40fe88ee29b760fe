/** send, logs, attach: talking to a running session. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { EnnioError } from '../core/errors.js';
import { withApi } from './api-link.js';
import type { GlobalOptions } from './context.js';
import { printJson } from './output.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function messageFrom(words: string[], file: string | undefined): Promise<string> {
  if (file !== undefined && words.length > 0) {
    throw new EnnioError('INVALID_ARGUMENT', 'give the message either as words or with --file, not both');
  }
  if (file === '-' || (file === undefined && words.length === 0)) {
    if (process.stdin.isTTY) throw new EnnioError('INVALID_ARGUMENT', 'no message given', { hint: 'ennio send <id> <message…>, --file F, or pipe it on stdin' });
    return readStdin();
  }
  if (file !== undefined) {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new EnnioError('INVALID_ARGUMENT', `cannot read --file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  return words.join(' ');
}

function parseLines(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new EnnioError('INVALID_ARGUMENT', `-n expects a whole number from 1 to 100000, got ${JSON.stringify(value)}`);
  return n;
}

export function registerDriveCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('send')
    .description('type a message into a session and submit it; options go before <id>, every word after it is the message')
    .argument('<id>')
    .argument('[message...]', 'the message, taken as typed even if it starts with - (or use --file, or stdin)')
    .option('-f, --file <path>', 'read the message from a file (- for stdin); before <id>')
    .action((id: string, words: string[], opts: { file?: string }) =>
      withApi(globals(), async (api) => {
        const message = await messageFrom(words, opts.file);
        const sent = await api.send(id, message);
        if (globals().json) printJson(sent);
        else process.stdout.write(`sent ${sent.bytes} bytes to ${id}\n`);
      }),
    );

  program
    .command('logs')
    .description('recent output of a session')
    .argument('<id>')
    .option('-n, --lines <n>', 'how many lines', '50')
    .option('-f, --follow', 'keep printing new output until interrupted')
    .action((id: string, opts: { lines: string; follow?: boolean }) =>
      withApi(globals(), async (api) => {
        const lines = parseLines(opts.lines);
        if (!opts.follow) {
          const { output } = await api.output(id, lines);
          if (globals().json) return printJson({ id, lines, output });
          process.stdout.write(output ? `${output}\n` : '');
          return;
        }
        const stop = new AbortController();
        const onSignal = (): void => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          await api.follow(id, lines, (text) => process.stdout.write(text), stop.signal, (notice) => process.stderr.write(`${notice}\n`));
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      }),
    );

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
