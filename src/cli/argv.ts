/**
 * The argv pre-pass run before commander parses, so that text the user means as data is
 * never read as an option:
 *
 * - `--json` may stand anywhere among the options (it is taken out here), but never
 *   inside data: not as an option's value (`spawn app -p --json`), not after `--`.
 * - A value-taking option's next word is its value, whatever it looks like
 *   (`-p --help`, `-b -n`): commander does the same; the pre-pass only has to not
 *   mistake it for `--json` or for the command word.
 * - Global options (`-c FILE`, `--no-server`) may follow the command words; they are
 *   moved in front of them, and the program parses with positional options, so
 *   commander never reads a subcommand's option value as a global option.
 * - A command whose last argument is variadic (`send <id> [message...]`) takes every
 *   word after its other arguments as that argument, like `ssh host command…` and
 *   `docker exec`: `ennio send <id> --file=/etc/passwd` sends that text, `send <id>
 *   --help` sends "--help". Its options go before the id. A `--` right after the id is
 *   dropped, so `send <id> -- text` keeps working.
 *
 * What takes a value and which argument is variadic is read from the registered
 * commander commands, so this file holds no second copy of any command's options.
 */
import type { Command, Option } from 'commander';

export interface PreparedArgv {
  /** `--json` was given among the options. */
  json: boolean;
  /** The words for commander (`from: 'user'`). */
  args: string[];
}

/** The option `word` names, innermost command first, and the command that declares it. */
function findOption(chain: readonly Command[], word: string): { option: Option; owner: Command } | undefined {
  for (const owner of chain) {
    const option = owner.options.find((o) => o.short === word || o.long === word);
    if (option) return { option, owner };
  }
  return undefined;
}

function subcommand(cmd: Command, word: string): Command | undefined {
  return cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
}

/** How many positional words come before the words that are all data, or undefined. */
function wordsBeforeData(cmd: Command): number | undefined {
  const declared = cmd.registeredArguments;
  const last = declared.at(-1);
  // Only after at least one fixed argument: `send --help` must still show help.
  if (!last?.variadic || declared.length < 2) return undefined;
  return declared.length - 1;
}

/** Whether `option` takes the next word as its value (`-p text`; `--prompt=text` and `-ptext` carry their own). */
function takesNextWord(option: Option | undefined, word: string, next: string | undefined): boolean {
  if (!option || word !== optionName(word)) return false;
  if (option.required) return true;
  // An optional value is taken only when it does not look like an option (commander's rule).
  return option.optional && next !== undefined && !next.startsWith('-');
}

/** The option without an attached value: `--config=x` → `--config`, `-cx` → `-c`. */
function optionName(word: string): string {
  if (word.startsWith('--')) return word.includes('=') ? word.slice(0, word.indexOf('=')) : word;
  return word.slice(0, 2);
}

export function prepareArgv(program: Command, argv: readonly string[]): PreparedArgv {
  const chain: Command[] = [program];
  const globals: string[] = [];
  const args: string[] = [];
  let json = false;
  let positionals = 0;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    const cmd = chain[0]!;
    if (word === '--') {
      args.push(...argv.slice(i));
      break;
    }
    if (word === '--json') {
      json = true;
      continue;
    }
    if (word.startsWith('-') && word !== '-') {
      const found = findOption(chain, optionName(word));
      const to = found?.owner === program && chain.length > 1 ? globals : args;
      to.push(word);
      if (takesNextWord(found?.option, word, argv[i + 1]) && i + 1 < argv.length) to.push(argv[++i]!);
      continue;
    }
    const sub = positionals === 0 ? subcommand(cmd, word) : undefined;
    args.push(word);
    if (sub) {
      chain.unshift(sub);
      continue;
    }
    positionals++;
    if (positionals === wordsBeforeData(cmd)) {
      const rest = argv.slice(i + 1);
      args.push('--', ...(rest[0] === '--' ? rest.slice(1) : rest));
      break;
    }
  }
  return { json, args: [...globals, ...args] };
}

/** The first command word (before any lazy command group is registered), skipping global options. */
export function commandWord(program: Command, argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') return undefined;
    if (!word.startsWith('-') || word === '-') return word;
    if (takesNextWord(findOption([program], word)?.option, word, argv[i + 1])) i++;
  }
  return undefined;
}
