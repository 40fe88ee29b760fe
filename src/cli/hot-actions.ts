/**
 * The bodies of the commands people run most (status, session info, send, logs), given an EnnioApi.
 * Commander's actions run them inside withApi (any API: orchestrator or in-process); the
 * fast path (hot-run.ts) runs them with the orchestrator's HTTP client directly. One body,
 * so both give the same output. Light on purpose: no api-link, no commander.
 */
import { readFileSync } from 'node:fs';
import type { EnnioApi } from '../api/contract.js';
import { EnnioError } from '../core/errors.js';
import type { GlobalOptions } from './context.js';
import { printJson } from './output.js';
import { sessionInfoText, sessionsTable } from './session-views.js';

type Api = Pick<EnnioApi, 'list' | 'info' | 'send' | 'output' | 'follow'> & {
  /** `--json`'s output, rendered where the sessions are (the orchestrator's HTTP client). */
  listPrinted?(project: string | undefined): Promise<Buffer>;
};

export async function listBody(api: Api, g: GlobalOptions, project: string | undefined): Promise<void> {
  if (g.json && api.listPrinted) return void process.stdout.write(await api.listPrinted(project));
  const { sessions } = await api.list(project);
  if (g.json) printJson(sessions);
  else process.stdout.write(`${sessionsTable(sessions)}\n`);
}

export async function infoBody(api: Api, g: GlobalOptions, id: string): Promise<void> {
  const s = await api.info(id);
  if (g.json) printJson(s);
  else process.stdout.write(sessionInfoText(s));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The message of `send`: its words, --file F, or stdin. */
export async function messageFrom(words: string[], file: string | undefined): Promise<string> {
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

export async function sendBody(api: Api, g: GlobalOptions, id: string, message: string): Promise<void> {
  const sent = await api.send(id, message);
  if (g.json) printJson(sent);
  else process.stdout.write(`sent ${sent.bytes} bytes to ${id}\n`);
}

function parseLines(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new EnnioError('INVALID_ARGUMENT', `-n expects a whole number from 1 to 100000, got ${JSON.stringify(value)}`);
  return n;
}

export async function logsBody(api: Api, g: GlobalOptions, id: string, opts: { lines: string; follow?: boolean }): Promise<void> {
  const lines = parseLines(opts.lines);
  if (!opts.follow) {
    const { output } = await api.output(id, lines);
    if (g.json) return printJson({ id, lines, output });
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
}
