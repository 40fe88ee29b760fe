/**
 * `${VAR}` / `${VAR:-default}` expansion inside string values of ennio.yaml, done on the
 * parsed Document's scalar nodes (not on the raw text) so that line:col of every value
 * survives for later error messages, and so YAML quoting rules are never disturbed by
 * what a variable contains. `$${` writes a literal `${`. Keys and comments are not expanded.
 */
import { isAlias, isMap, isScalar, isSeq, Scalar } from 'yaml';
import type { Document, LineCounter } from 'yaml';
import { EnnioError } from '../core/errors.js';
import { formatKeyPath, locate } from './yaml-locate.js';
import type { KeyPath } from './yaml-locate.js';

export type Env = Readonly<Record<string, string | undefined>>;

const REF = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

export type ExpandOutcome =
  | { ok: true; value: string; used: boolean; missing: string[] }
  | { ok: false; problem: string };

/**
 * Expand one string. Like the shell, `:-default` applies when the variable is unset or
 * empty. Missing variables are collected (not thrown) so one error can list all of them.
 */
export function expandString(text: string, env: Env): ExpandOutcome {
  let out = '';
  let used = false;
  const missing: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      out += text[i];
      i += 1;
      continue;
    }
    const close = text.indexOf('}', i + 2);
    if (close < 0) return { ok: false, problem: `unterminated "\${" in ${JSON.stringify(text)} (write $\${ for a literal \${)` };
    const inner = text.slice(i + 2, close);
    const m = REF.exec(inner);
    if (!m?.[1]) {
      return { ok: false, problem: `"\${${inner}}" is not a variable reference: use \${NAME} or \${NAME:-default} (write $\${ for a literal \${)` };
    }
    const [, name, fallback] = m;
    if (fallback?.includes('${')) return { ok: false, problem: `nested \${…} inside a default is not supported: "\${${inner}}"` };
    const value = env[name];
    used = true;
    if (fallback !== undefined && (value === undefined || value === '')) out += fallback;
    else if (value === undefined) missing.push(name);
    else out += value;
    i = close + 1;
  }
  return { ok: true, value: out, used, missing };
}

/**
 * Keys whose values are numbers or booleans: there an unquoted `port: ${SSH_PORT}` must
 * become the number 2222, as if written literally. Everywhere else (passwords, paths,
 * names) an expanded value stays a string, so a password of digits keeps being a string.
 */
const TYPED_KEYS = new Set([
  'port', 'max_sessions', 'idle_timeout', 'server_port', 'enabled', 'forward_agent', 'use_ssh_config',
  'connection_timeout', 'keepalive_interval', 'url_timeout',
]);

function retype(value: string): string | number | boolean {
  if (/^[-+]?\d+$/.test(value) || /^[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$/.test(value)) return Number(value);
  if (value === 'true' || value === 'false') return value === 'true';
  return value;
}

export interface ExpandContext {
  env: Env;
  /** File name as shown in messages. */
  file: string;
  lineCounter: LineCounter;
}

/**
 * Expands every string value of `doc` in place. Returns the key paths (formatted) of the
 * values that came from a variable, so the loader can warn about secrets written literally.
 * Throws ENV_MISSING naming every unset variable with its file:line:col and key path.
 */
export function expandEnv(doc: Document, ctx: ExpandContext): Set<string> {
  const fromEnv = new Set<string>();
  const missing: string[] = [];
  const names = new Set<string>();
  const visit = (node: unknown, path: KeyPath): void => {
    if (isAlias(node)) return; // its anchor is expanded where it is defined
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '?';
        visit(pair.value, [...path, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, idx) => visit(item, [...path, idx]));
    } else if (isScalar(node) && typeof node.value === 'string') {
      const res = expandString(node.value, ctx.env);
      const pos = () => {
        const p = locate(doc, ctx.lineCounter, path);
        return `${ctx.file}:${p.line}:${p.col} ${formatKeyPath(path)}`;
      };
      if (!res.ok) {
        throw new EnnioError('CONFIG_INVALID', `${pos()}: ${res.problem}`);
      }
      for (const name of res.missing) {
        names.add(name);
        missing.push(`${pos()}: environment variable ${name} is not set`);
      }
      if (res.used) fromEnv.add(formatKeyPath(path));
      const typed = TYPED_KEYS.has(String(path[path.length - 1]));
      node.value = res.used && typed && node.type === Scalar.PLAIN ? retype(res.value) : res.value;
    }
  };
  visit(doc.contents, []);
  if (missing.length > 0) {
    const list = [...names];
    throw new EnnioError('ENV_MISSING', missing.join('\n'), {
      hint:
        `set ${list.join(', ')} in the environment (e.g. export ${list[0] ?? 'NAME'}=…), ` +
        'or give a default with ${NAME:-value}; write $${ for a literal ${',
    });
  }
  return fromEnv;
}
