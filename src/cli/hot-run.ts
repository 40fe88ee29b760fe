/**
 * Runs a command line fast-path.ts recognised, straight through the orchestrator's HTTP
 * client, with the program's output, error text and exit codes. When no orchestrator of
 * this build answers, nothing has happened yet: the caller runs the full program, which
 * starts or replaces the orchestrator (or runs in-process) as it always does.
 */
import { ServerBuildMismatch, ServerUnavailable } from '../api/http-client.js';
import { callerHttpApi } from './caller-api.js';
import type { GlobalOptions } from './context.js';
import { exitCodeFor, formatError } from './exit.js';
import type { HotCommand } from './fast-path.js';
import { infoBody, listBody, logsBody, sendBody } from './hot-actions.js';

/** False: not handled, run the full program instead. */
export async function runHot(cmd: HotCommand): Promise<boolean> {
  const g: GlobalOptions = { json: cmd.json, ...(cmd.config !== undefined ? { config: cmd.config } : {}) };
  const api = callerHttpApi(g);
  try {
    if (cmd.kind === 'list') await listBody(api, g, cmd.project);
    else if (cmd.kind === 'info') await infoBody(api, g, cmd.id);
    else if (cmd.kind === 'send') await sendBody(api, g, cmd.id, cmd.words.join(' '));
    else await logsBody(api, g, cmd.id, { lines: cmd.lines });
  } catch (err) {
    if (err instanceof ServerUnavailable || err instanceof ServerBuildMismatch) return false;
    process.stderr.write(`${formatError(err, g.json)}\n`);
    process.exitCode = exitCodeFor(err);
  }
  return true;
}
