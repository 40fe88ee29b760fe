/**
 * Reads ennio.yaml: YAML → ${VAR} expansion (on nodes) → zod → cross-key checks.
 * Every error names file:line:col and the key path. Synchronous on purpose: it runs once
 * at CLI start-up, before anything else can usefully happen.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { EnnioError } from '../core/errors.js';
import { expandEnv } from './env-expand.js';
import type { Env } from './env-expand.js';
import { formatIssues } from './issues.js';
import { config as configSchema } from './schema.js';
import type { EnnioConfig } from './schema.js';
import { checkSemantics } from './semantic.js';
import type { Finding } from './semantic.js';
import { formatKeyPath, where } from './yaml-locate.js';
import type { KeyPath } from './yaml-locate.js';

export interface LoadedConfig {
  config: EnnioConfig;
  /** Absolute path of the file. */
  path: string;
  /** Its directory (the config's own location; relative local paths are for callers to resolve against it). */
  dir: string;
  /** Non-fatal findings, each `file:line:col key.path: text`. */
  warnings: string[];
  /** `file:line:col` of a key path, so later errors about a config value can point at it. */
  where(path: KeyPath): string;
}

export interface LoadOptions {
  /** Variables for ${VAR} expansion (default process.env). */
  env?: Env;
  /** How the file is named in messages (default: relative to cwd when inside it). */
  displayName?: string;
}

function displayNameOf(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

const HINT = 'fix the lines above; `ennio config schema` prints a JSON Schema for editor completion and checking';

/** Parse and validate config text; `file` is only used in messages. */
export function parseConfig(text: string, file: string, options: LoadOptions = {}): Omit<LoadedConfig, 'path' | 'dir'> {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): string => {
    const p = lineCounter.linePos(offset);
    return `${file}:${p.line}:${p.col}`;
  };
  if (doc.errors.length > 0) {
    throw new EnnioError('CONFIG_INVALID', doc.errors.map((e) => `${at(e.pos[0])}: ${e.message}`).join('\n'), {
      hint: `${file} is not valid YAML; check indentation and quoting at the position shown`,
    });
  }
  const warnings = doc.warnings.map((w) => `${at(w.pos[0])}: ${w.message}`);
  const fromEnv = expandEnv(doc, { env: options.env ?? process.env, file, lineCounter });
  // An empty file is a config with every default (and no projects yet).
  const data: unknown = doc.toJS() ?? {};

  const here = (path: KeyPath): string => where(file, doc, lineCounter, path);
  const line = (f: Finding): string => `${here(f.path)} ${formatKeyPath(f.path)}: ${f.text}`;

  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    const lines = formatIssues(parsed.error.issues, { file, doc, lineCounter, data, schema: configSchema });
    throw new EnnioError('CONFIG_INVALID', lines.map((l) => l.text).join('\n'), { hint: HINT, cause: parsed.error });
  }
  const semantic = checkSemantics(parsed.data, fromEnv);
  if (semantic.errors.length > 0) {
    throw new EnnioError('CONFIG_INVALID', semantic.errors.map(line).join('\n'), { hint: HINT });
  }
  return { config: parsed.data, warnings: [...warnings, ...semantic.warnings.map(line)], where: here };
}

/** Read, expand, validate. Throws CONFIG_NOT_FOUND, CONFIG_INVALID or ENV_MISSING. */
export function loadConfig(path: string, options: LoadOptions = {}): LoadedConfig {
  const abs = resolve(path);
  const file = options.displayName ?? displayNameOf(abs);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new EnnioError('CONFIG_NOT_FOUND', `config file ${abs} does not exist`, {
        cause: err,
        hint: 'check the path, or run `ennio init` to create a starter ennio.yaml',
      });
    }
    throw new EnnioError('CONFIG_INVALID', `cannot read config file ${abs}: ${code ?? String(err)}`, {
      cause: err,
      hint: code === 'EISDIR' ? 'pass the ennio.yaml file, not its directory' : 'check the file permissions',
    });
  }
  return { ...parseConfig(text, file, options), path: abs, dir: dirname(abs) };
}
