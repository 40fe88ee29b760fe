/** send, logs, attach: talking to a running session. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { EnnioError, isEnnioError, type ErrorCode } from '../core/errors.js';
import type { GlobalOptions } from './context.js';
import { printJson } from './output.js';
import { withContext } from './run.js';

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

/** New lines of `next` that follow what `prev` already showed (the pane scrolls between polls). */
export function newLines(prev: string[], next: string[]): string[] {
  for (let k = Math.min(prev.length, next.length); k > 0; k--) {
    const tail = prev.slice(prev.length - k);
    for (let start = next.length - k; start >= 0; start--) {
      if (tail.every((line, i) => next[start + i] === line)) return next.slice(start + k);
    }
  }
  return next;
}

/** Failures of the link that a later attempt can get past (a host key or login refusal cannot). */
const LINK_ERRORS: ReadonlySet<ErrorCode> = new Set(['SSH_CONNECT', 'SSH_CHANNEL', 'NODE_UNAVAILABLE']);

/** Capped backoff between attempts while the link is down: 1, 2, 4, 7, 10 s. */
function retryDelayMs(failures: number): number {
  return [1000, 2000, 4000, 7000, 10_000][Math.min(failures, 5) - 1] ?? 10_000;
}

function parseLines(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new EnnioError('INVALID_ARGUMENT', `-n expects a whole number from 1 to 100000, got ${JSON.stringify(value)}`);
  return n;
}

export function registerDriveCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('send')
    .description('type a message into a session and submit it')
    .argument('<id>')
    .argument('[message...]', 'the message (or use --file, or stdin)')
    .option('-f, --file <path>', 'read the message from a file (- for stdin)')
    .action((id: string, words: string[], opts: { file?: string }) =>
      withContext(globals(), async (ctx, g) => {
        const message = await messageFrom(words, opts.file);
        await ctx.manager.send(id, message);
        if (g.json) printJson({ id, sent: true, bytes: Buffer.byteLength(message) });
        else process.stdout.write(`sent ${Buffer.byteLength(message)} bytes to ${id}\n`);
      }),
    );

  program
    .command('logs')
    .description('recent output of a session')
    .argument('<id>')
    .option('-n, --lines <n>', 'how many lines', '50')
    .option('-f, --follow', 'keep printing new output until interrupted')
    .action((id: string, opts: { lines: string; follow?: boolean }) =>
      withContext(globals(), async (ctx, g) => {
        const lines = parseLines(opts.lines);
        let text = await ctx.manager.logs(id, lines);
        if (g.json && !opts.follow) return printJson({ id, lines, output: text });
        process.stdout.write(text ? `${text}\n` : '');
        if (!opts.follow) return;
        let stop = false;
        process.once('SIGINT', () => (stop = true));
        process.once('SIGTERM', () => (stop = true));
        let failures = 0;
        while (!stop) {
          await new Promise((r) => setTimeout(r, failures === 0 ? 300 : retryDelayMs(failures)));
          if (stop) break;
          let next: string;
          try {
            next = await ctx.manager.logs(id, Math.max(lines, 200));
          } catch (err) {
            // A cut link is not the end of a follow: say so, and keep asking until it is back.
            if (!isEnnioError(err) || !LINK_ERRORS.has(err.code)) throw err;
            failures += 1;
            process.stderr.write(`logs: ${err.message}; retrying in ${Math.round(retryDelayMs(failures) / 1000)} s…\n`);
            continue;
          }
          if (failures > 0) process.stderr.write('logs: connection is back; resuming\n');
          failures = 0;
          const fresh = newLines(text.split('\n'), next.split('\n'));
          if (fresh.length) process.stdout.write(`${fresh.join('\n')}\n`);
          text = next;
        }
      }),
    );

  program
    .command('attach')
    .description('open the session interactively (detach with Ctrl-b d)')
    .argument('<id>')
    .action((id: string) =>
      withContext(globals(), async (ctx) => {
        const argv = await ctx.manager.attachArgv(id);
        if (!process.stdin.isTTY) {
          throw new EnnioError('INVALID_ARGUMENT', 'attach needs an interactive terminal', { hint: `run it in a terminal, or run: ${argv.join(' ')}` });
        }
        const res = spawnSync(argv[0]!, argv.slice(1), { stdio: 'inherit' });
        if (res.error) throw new EnnioError('TOOL_MISSING', `cannot run ${argv[0]}: ${res.error.message}`);
        process.exitCode = res.status ?? 1;
      }),
    );
}
