/**
 * The `ennio` entry. `ennio --version` answers before anything else is loaded (scripts and
 * shell prompts call it often); every other command line goes to the program (program.ts).
 */
import { VERSION } from '../core/version.js';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) process.stdout.write(`${VERSION}\n`);
else await import('./program.js');
