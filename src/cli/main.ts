/** The `ennio` CLI entry: global flags, command groups, one place mapping errors to exit codes. */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../core/version.js';
import { withApi } from './api-link.js';
import type { GlobalOptions } from './context.js';
import { registerDriveCommands } from './drive-commands.js';
import { exitCodeFor, formatError } from './exit.js';
import { registerServerCommands } from './server-commands.js';
import { registerSessionCommands } from './session-commands.js';
import { registerWaitCommand } from './wait-command.js';

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
  .option('--no-server', 'run in this process instead of through the orchestrator (also ENNIO_NO_SERVER=1)')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

const globals = (): GlobalOptions => {
  const opts = program.opts<{ config?: string; server?: boolean }>();
  return { json, ...(opts.config ? { config: opts.config } : {}), ...(opts.server === false ? { noServer: true } : {}) };
};

// The hot commands are registered from light modules; the rest (config, doctor, demo, node)
// load SQLite, zod and ssh2, so they are imported only when the command line may need them.
const LIGHT = new Set(['spawn', 'status', 'session', 'send', 'logs', 'attach', 'wait', 'start', 'stop', 'server', 'api']);
function commandWord(words: string[]): string | undefined {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-c' || w === '--config') i++;
    else if (!w.startsWith('-')) return w;
  }
  return undefined;
}

registerSessionCommands(program, globals);
registerDriveCommands(program, globals);
registerWaitCommand(program, globals);
registerServerCommands(program, globals);
const word = commandWord(dashes < 0 ? args : args.slice(0, args.indexOf('--')));
// `ennio --version` needs none of them; `ennio` and `ennio --help` list every command.
const versionOnly = word === undefined && (args.includes('-V') || args.includes('--version'));
if (!versionOnly && (word === undefined || !LIGHT.has(word))) {
  const [{ registerConfigCommands }, { registerDemo }, { registerDoctor }, { registerNodeCommands }, { loadConfigFrom }, { ennioHome }] = await Promise.all([
    import('./config-commands.js'), import('./demo.js'), import('./doctor.js'), import('./node.js'), import('./context.js'), import('../core/home.js'),
  ]);
  registerConfigCommands(program, globals);
  registerDoctor(program, globals);
  registerDemo(program, globals);
  registerNodeCommands(program, { withNodeApi: (body) => withApi(globals(), body), loadConfig: () => loadConfigFrom(globals()).config, json: () => json, ennioHome: () => ennioHome() });
}

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
