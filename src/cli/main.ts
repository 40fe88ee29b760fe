/**
 * The `ennio` entry, built on its own into one small CommonJS file (dist/cli.js): every
 * command pays for what loads here. `ennio --version` answers at once (scripts and shell
 * prompts call it often); a plain status / send / logs goes straight to the orchestrator
 * (fast-path.ts, hot-run.ts: no commander, no chunks); everything else, and a hot command
 * that finds no orchestrator of this build, loads the program (program.ts, dist/program.mjs).
 */
// First: the caller's environment must be whole before anything reads it.
import './caller-env.js';
import { VERSION } from '../core/version.js';
import { quietOnClosedPipe } from './closed-pipe.js';
import { recogniseHot } from './fast-path.js';
import { runHot } from './hot-run.js';

async function main(argv: string[]): Promise<void> {
  quietOnClosedPipe();
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  const hot = recogniseHot(argv, process.env);
  if (hot && (await runHot(hot))) return;
  await import('./program.js');
}

void main(process.argv.slice(2));
