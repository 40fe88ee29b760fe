/**
 * Turns zod issues into one line each, `file:line:col key.path: what is wrong`, in the
 * words of someone editing YAML (a "mapping", a "list") rather than of the validator.
 */
import type { Document, LineCounter } from 'yaml';
import type { z } from 'zod';
import { SECRET_KEYS } from './schema.js';
import { allowedKeysAt } from './schema-keys.js';
import { closest, didYouMean } from './suggest.js';
import { formatKeyPath, locate } from './yaml-locate.js';
import type { KeyPath } from './yaml-locate.js';

type Issue = z.core.$ZodIssue;

export interface IssueContext {
  file: string;
  doc: Document;
  lineCounter: LineCounter;
  /** The plain value that was validated (after ${VAR} expansion). */
  data: unknown;
  schema: z.core.$ZodType;
}

export interface FormattedIssue {
  line: number;
  col: number;
  text: string;
}

function valueAt(data: unknown, path: KeyPath): unknown {
  let v = data;
  for (const seg of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

/** What the user wrote, for "got …". Secrets are described by type only, never echoed. */
function describe(value: unknown, path: KeyPath): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const last = path[path.length - 1];
  if (typeof last === 'string' && SECRET_KEYS.has(last)) return `a ${typeof value}`;
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  return `${typeof value} ${String(value)}`;
}

const quoteAll = (values: readonly unknown[]): string => values.map((v) => JSON.stringify(v)).join(', ');

function message(issue: Issue, ctx: IssueContext): string {
  const path = issue.path;
  const value = valueAt(ctx.data, path);
  switch (issue.code) {
    case 'invalid_type':
      return value === undefined
        ? `required key ${JSON.stringify(String(path[path.length - 1] ?? ''))} is missing (expected ${issue.expected})`
        : `expected ${issue.expected}, got ${describe(value, path)}`;
    case 'invalid_value': {
      const hint = typeof value === 'string' ? didYouMean(value, issue.values.map(String)) : '';
      return `expected ${issue.values.length === 1 ? '' : 'one of '}${quoteAll(issue.values)}, got ${describe(value, path)}${hint}`;
    }
    case 'invalid_union': {
      if (issue.discriminator !== undefined && 'options' in issue && issue.options) {
        const opts = issue.options.map(String);
        if (value === undefined) return `missing ${JSON.stringify(issue.discriminator)} (one of ${quoteAll(opts)})`;
        const hint = typeof value === 'string' ? didYouMean(value, opts) : '';
        return `expected one of ${quoteAll(opts)}, got ${describe(value, path)}${hint}`;
      }
      // e.g. a duration is a number or a string: say "expected number or string".
      const expected = issue.errors.flat().flatMap((e) => (e.code === 'invalid_type' ? [e.expected] : []));
      if (expected.length > 0) return `expected ${[...new Set(expected)].join(' or ')}, got ${describe(value, path)}`;
      const first = issue.errors.flat()[0];
      return first ? first.message : issue.message;
    }
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
      return `${issue.message}, got ${describe(value, path)}`;
    default:
      return issue.message;
  }
}

/** Every issue as a line, sorted by position in the file. */
export function formatIssues(issues: readonly Issue[], ctx: IssueContext): FormattedIssue[] {
  const out: FormattedIssue[] = [];
  const push = (path: KeyPath, at: 'key' | 'value', text: string) => {
    const { line, col } = locate(ctx.doc, ctx.lineCounter, path, at);
    out.push({ line, col, text: `${ctx.file}:${line}:${col} ${formatKeyPath(path)}: ${text}` });
  };
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(ctx.schema, issue.path, ctx.data);
      for (const key of issue.keys) {
        const suggestion = closest(key, allowed);
        const tail = suggestion !== undefined
          ? ` — did you mean ${JSON.stringify(suggestion)}?`
          : allowed.length > 0 ? ` (allowed here: ${allowed.join(', ')})` : '';
        push([...issue.path, key], 'key', `unknown key ${JSON.stringify(key)}${tail}`);
      }
    } else {
      push(issue.path, 'value', message(issue, ctx));
    }
  }
  return out.sort((a, b) => a.line - b.line || a.col - b.col);
}
