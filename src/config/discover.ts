/**
 * Finds ennio.yaml: an explicit path (-c/--config) wins, then $ENNIO_CONFIG, then the
 * first directory from `cwd` upwards that holds one of CONFIG_NAMES (checked in order),
 * like git finds .git — so `ennio` works from any subdirectory of a project.
 */
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EnnioError } from '../core/errors.js';
import type { Env } from './env-expand.js';

/** Per directory, the first of these that exists is the config. */
export const CONFIG_NAMES = ['ennio.yaml', 'ennio.yml', '.ennio.yaml', '.ennio.yml'] as const;

export interface DiscoverOptions {
  /** The value of -c/--config: a file, or a directory holding one of CONFIG_NAMES. */
  explicit?: string | undefined;
  /** Where the upward search starts (default process.cwd()). */
  cwd?: string;
  /** Where ENNIO_CONFIG is read from (default process.env). */
  env?: Env;
}

function kind(path: string): 'file' | 'dir' | undefined {
  try {
    const st = statSync(path);
    return st.isDirectory() ? 'dir' : 'file';
  } catch (err) {
    // Only "not there" means not found; anything else (EACCES…) must not be silently skipped.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new EnnioError('CONFIG_NOT_FOUND', `cannot inspect ${path}: ${code ?? String(err)}`, {
      cause: err,
      hint: 'check the permissions of that path, or pass the config with -c <file>',
    });
  }
}

/** The first config name present in `dir`, as an absolute path. */
export function configInDir(dir: string): string | undefined {
  for (const name of CONFIG_NAMES) {
    const p = join(dir, name);
    if (kind(p) === 'file') return p;
  }
  return undefined;
}

function fromGiven(given: string, cwd: string, source: string): string {
  const abs = resolve(cwd, given);
  const k = kind(abs);
  if (k === 'file') return abs;
  if (k === 'dir') {
    const inDir = configInDir(abs);
    if (inDir) return inDir;
    throw new EnnioError('CONFIG_NOT_FOUND', `${source} points at directory ${abs}, which has none of ${CONFIG_NAMES.join(', ')}`, {
      hint: `run \`ennio init ${given}\` to create one there, or pass the file itself`,
    });
  }
  throw new EnnioError('CONFIG_NOT_FOUND', `config file ${abs} (from ${source}) does not exist`, {
    hint: 'check the path, or run `ennio init` to create a starter ennio.yaml',
  });
}

/** Positional form of discoverConfig: `findConfig(process.cwd(), opts.config)`. */
export function findConfig(cwd: string, explicit?: string): string {
  return discoverConfig({ cwd, explicit });
}

/** Absolute path of the config to use. Throws CONFIG_NOT_FOUND saying where it looked. */
export function discoverConfig(options: DiscoverOptions = {}): string {
  const cwd = resolve(options.cwd ?? process.cwd());
  if (options.explicit !== undefined && options.explicit !== '') return fromGiven(options.explicit, cwd, '--config');
  const fromEnv = (options.env ?? process.env)['ENNIO_CONFIG'];
  if (fromEnv !== undefined && fromEnv !== '') return fromGiven(fromEnv, cwd, 'ENNIO_CONFIG');

  const searched: string[] = [];
  for (let dir = cwd; ; dir = dirname(dir)) {
    const found = configInDir(dir);
    if (found) return found;
    searched.push(dir);
    if (dirname(dir) === dir) break;
  }
  throw new EnnioError(
    'CONFIG_NOT_FOUND',
    `no ennio config found: looked for ${CONFIG_NAMES.join(', ')} in ${cwd} and every parent directory up to ${searched[searched.length - 1] ?? '/'}`,
    { hint: 'run `ennio init` to create a starter ennio.yaml here, or pass one with -c <file> (or set ENNIO_CONFIG)' },
  );
}
