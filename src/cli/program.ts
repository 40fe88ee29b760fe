/** The `ennio` CLI program: global flags, command groups, one place mapping errors to exit codes. */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../core/version.js';
import { withApi } from './api-link.js';
import { commandWord, prepareArgv } from './argv.js';
import type { GlobalOptions } from './context.js';
import { registerDashboard } from './dashboard.js';
import { registerDriveCommands } from './drive-commands.js';
import { exitCodeFor, formatError } from './exit.js';
import { registerServerCommands } from './server-commands.js';
import { registerSessionCommands } from './session-commands.js';
import { registerWaitCommand } from './wait-command.js';

const argv = process.argv.slice(2);
// Set once the argv pre-pass has run (below); globals() is called only by actions.
let json = false;

const program = new Command('ennio')
  .description('Run AI coding agents as sessions in git worktrees and tmux, locally or on remote hosts over SSH.')
  .version(VERSION, '-V, --version')
  .option('-c, --config <path>', 'config file (default: ennio.yaml found by walking up from here)')
  .option('--json', 'machine-readable output (allowed anywhere among the options)')
  .option('--no-server', 'run in this process instead of through the orchestrator (also ENNIO_NO_SERVER=1)')
  .showHelpAfterError('(run with --help for usage)')
  // Global options are recognised only before the command words; src/cli/argv.ts moves
  // any written after them to the front, so a subcommand's option value stays its own.
  .enablePositionalOptions()
  .exitOverride();

const globals = (): GlobalOptions => {
  const opts = program.opts<{ config?: string; server?: boolean }>();
  return { json, ...(opts.config ? { config: opts.config } : {}), ...(opts.server === false ? { noServer: true } : {}) };
};

// The hot commands are registered from light modules; the rest (config, doctor, demo, node)
// load SQLite, zod and ssh2, so they are imported only when the command line may need them.
const LIGHT = new Set(['spawn', 'status', 'session', 'send', 'logs', 'attach', 'wait', 'start', 'stop', 'server', 'api', 'dashboard']);

registerSessionCommands(program, globals);
registerDriveCommands(program, globals);
registerWaitCommand(program, globals);
registerServerCommands(program, globals);
registerDashboard(program, globals);
const word = commandWord(program, argv);
// `ennio --version` needs none of them; `ennio` and `ennio --help` list every command.
const options = argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv;
const versionOnly = word === undefined && (options.includes('-V') || options.includes('--version'));
if (!versionOnly && (word === undefined || !LIGHT.has(word))) {
  const [{ registerConfigCommands }, { registerDemo }, { registerDoctor }, { registerNodeCommands }, { loadConfigFrom }, { ennioHome }] = await Promise.all([
    import('./config-commands.js'), import('./demo.js'), import('./doctor.js'), import('./node.js'), import('./context.js'), import('../core/home.js'),
  ]);
  registerConfigCommands(program, globals);
  registerDoctor(program, globals);
  registerDemo(program, globals);
  registerNodeCommands(program, { withNodeApi: (body) => withApi(globals(), body), loadConfig: () => loadConfigFrom(globals()).config, json: () => json, ennioHome: () => ennioHome() });
}

// Knows every registered command now: `--json` out, data (messages, option values) kept as data.
const prepared = prepareArgv(program, argv);
json = prepared.json;
const args = prepared.args;

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
