/**
 * The command lines people type most — `status`, `session list`, `session info <id>`,
 * `send <id> words…`, `logs <id> [-n N]` — recognised without commander, so such a command loads only the HTTP
 * client and its own body (hot-actions.ts). Anything else, or anything unusual (help,
 * --no-server, an unknown option, a message on stdin), returns undefined and goes to the
 * full program, which gives the same answer: this is only a shortcut for plain cases.
 * Imports nothing: main.ts consults it before loading anything.
 */

export type HotCommand =
  | { kind: 'list'; project?: string; json: boolean; config?: string }
  | { kind: 'info'; id: string; json: boolean; config?: string }
  | { kind: 'send'; id: string; words: string[]; json: boolean; config?: string }
  | { kind: 'logs'; id: string; lines: string; json: boolean; config?: string };

interface Options {
  json: boolean;
  config?: string;
  lines?: string;
}

/**
 * Reads one option word (with its value) into `into`; false when the word is not one this
 * shortcut knows, so the full program decides. `-n` is only taken where `logs` allows it.
 */
function takeOption(words: readonly string[], i: number, into: Options, allowLines: boolean): number | undefined {
  const w = words[i]!;
  if (w === '--json') {
    into.json = true;
    return i + 1;
  }
  if (w === '-c' || w === '--config') {
    const value = words[i + 1];
    if (value === undefined || value.startsWith('-')) return undefined;
    into.config = value;
    return i + 2;
  }
  if (w.startsWith('--config=') && w.length > '--config='.length) {
    into.config = w.slice('--config='.length);
    return i + 1;
  }
  if (allowLines && (w === '-n' || w === '--lines')) {
    const value = words[i + 1];
    if (value === undefined || value.startsWith('-')) return undefined;
    into.lines = value;
    return i + 2;
  }
  return undefined;
}

/** Options and positional words up to `stopAfter` positionals (send: the id; the rest is the message). */
function split(words: readonly string[], allowLines: boolean, stopAfter = Infinity): { opts: Options; positional: string[]; rest: string[] } | undefined {
  const opts: Options = { json: false };
  const positional: string[] = [];
  let i = 0;
  while (i < words.length) {
    if (positional.length >= stopAfter) break;
    const w = words[i]!;
    if (w.startsWith('-')) {
      const next = takeOption(words, i, opts, allowLines);
      if (next === undefined) return undefined;
      i = next;
    } else {
      positional.push(w);
      i++;
    }
  }
  return { opts, positional, rest: words.slice(i) };
}

export function recogniseHot(argv: readonly string[], env: NodeJS.ProcessEnv): HotCommand | undefined {
  if (env['ENNIO_NO_SERVER'] === '1') return undefined;
  // Global options before the command word.
  const globals: Options = { json: false };
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-')) {
    const next = takeOption(argv, i, globals, false);
    if (next === undefined) return undefined;
    i = next;
  }
  const word = argv[i];
  let rest = argv.slice(i + 1);
  let kind: 'list' | 'info' | 'send' | 'logs';
  if (word === 'session' && (rest[0] === 'list' || rest[0] === 'ls' || rest[0] === 'info')) {
    kind = rest[0] === 'info' ? 'info' : 'list';
    rest = rest.slice(1);
  } else if (word === 'status') kind = 'list';
  else if (word === 'send' || word === 'logs') kind = word;
  else return undefined;
  const merge = (o: Options): { json: boolean; config?: string } | undefined => {
    if (o.config !== undefined && globals.config !== undefined) return undefined;
    const config = o.config ?? globals.config;
    return { json: o.json || globals.json, ...(config !== undefined ? { config } : {}) };
  };

  if (kind === 'send') {
    const parsed = split(rest, false, 1);
    if (!parsed || parsed.positional.length !== 1) return undefined;
    const message = parsed.rest[0] === '--' ? parsed.rest.slice(1) : parsed.rest;
    const common = merge(parsed.opts);
    // No words: the message comes from stdin, which the full program reads.
    if (!common || message.length === 0) return undefined;
    return { kind: 'send', id: parsed.positional[0]!, words: message, ...common };
  }
  const parsed = split(rest, kind === 'logs');
  const common = parsed && merge(parsed.opts);
  if (!parsed || !common) return undefined;
  if (kind === 'logs' || kind === 'info') {
    if (parsed.positional.length !== 1) return undefined;
    const id = parsed.positional[0]!;
    return kind === 'logs' ? { kind, id, lines: parsed.opts.lines ?? '50', ...common } : { kind, id, ...common };
  }
  if (parsed.positional.length > 1) return undefined;
  return { kind: 'list', ...(parsed.positional[0] !== undefined ? { project: parsed.positional[0] } : {}), ...common };
}
