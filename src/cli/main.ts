/** The `ennio` CLI entry: global flags, command groups, one place mapping errors to exit codes. */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../core/version.js';
import { registerConfigCommands } from './config-commands.js';
import { registerDemo } from './demo.js';
import { registerDoctor } from './doctor.js';
import { registerDriveCommands } from './drive-commands.js';
import { exitCodeFor, formatError } from './exit.js';
import { registerNodeCommands } from './node.js';
import { loadConfigFrom, type GlobalOptions } from './context.js';
import { ennioHome } from '../store/db.js';
import { registerSessionCommands } from './session-commands.js';

// `--json` may stand anywhere on the line, so it is taken out before commander parses.
// Words after `--` are data (a message may say --json) and stay untouched.
const argv = process.argv.slice(2);
const dashes = argv.indexOf('--');
const options = dashes < 0 ? argv : argv.slice(0, dashes);
const json = options.includes('--json');
const args = [...options.filter((a) => a !== '--json'), ...(dashes < 0 ? [] : argv.slice(dashes))];

const program = new Command('ennio')
  .description('Run AI coding agents as sessions in git worktrees and tmux, locally or on remote hosts over SSH.')
  .version(VERSION, '-V, --version')
  .option('-c, --config <path>', 'config file (default: ennio.yaml found by walking up from here)')
  .option('--json', 'machine-readable output (allowed anywhere on the line)')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

const globals = (): GlobalOptions => {
  const opts = program.opts<{ config?: string }>();
  return { json, ...(opts.config ? { config: opts.config } : {}) };
};

registerSessionCommands(program, globals);
registerDriveCommands(program, globals);
registerConfigCommands(program, globals);
registerDoctor(program, globals);
registerDemo(program, globals);
registerNodeCommands(program, { loadConfig: () => loadConfigFrom(globals()).config, json: () => json, ennioHome: () => ennioHome() });


try {
  await program.parseAsync(args, { from: 'user' });
} catch (err) {
  if (err instanceof CommanderError) {
    // commander already printed its message; help and version are not failures.
    process.exitCode = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`${formatError(err, json)}\n`);
    process.exitCode = exitCodeFor(err);
  }
}
