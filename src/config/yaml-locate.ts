/**
 * Maps a key path (as zod reports it: ['projects', 0, 'ssh_config', 'port']) back to the
 * node of the parsed YAML document, so every config error can say file:line:col.
 * Works on the Document (not the plain JS value) because only nodes keep source ranges.
 */
import { isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter, Node, Pair } from 'yaml';

export type KeyPath = readonly PropertyKey[];

export interface SourcePos {
  line: number;
  col: number;
}

/** `projects[0].ssh_config.port`; the empty path is the document itself, shown as `(root)`. */
export function formatKeyPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const s = String(seg);
      out += /^[A-Za-z_][A-Za-z0-9_-]*$/.test(s) ? (out ? `.${s}` : s) : `[${JSON.stringify(s)}]`;
    }
  }
  return out || '(root)';
}

/** A map's pair whose (scalar) key equals `key`. */
export function findPair(map: unknown, key: string): Pair | undefined {
  if (!isMap(map)) return undefined;
  return map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
}

function deref(doc: Document, node: unknown): unknown {
  // An alias (*name) has no range of interest; the anchored node it points to does.
  return isAlias(node) ? node.resolve(doc) : node;
}

function rangeStart(node: unknown): number | undefined {
  const r = (node as Node | null | undefined)?.range;
  return r ? r[0] : undefined;
}

/**
 * The source position of `path`: of the value, or of the key when `at` is 'key' (used for
 * unknown keys, where the key itself is the mistake). A path that does not exist in the
 * document (a missing required key) resolves to its deepest existing ancestor.
 */
export function locate(doc: Document, lc: LineCounter, path: KeyPath, at: 'value' | 'key' = 'value'): SourcePos {
  let node: unknown = deref(doc, doc.contents);
  let best = rangeStart(node) ?? 0;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    let next: unknown;
    if (isMap(node) && seg !== undefined) {
      const pair = findPair(node, String(seg));
      if (!pair) break;
      // `port:` with nothing after it has a null value without a useful range: use the key.
      next = last && at === 'key' ? pair.key : (deref(doc, pair.value) ?? pair.key);
      if (rangeStart(next) === undefined) next = pair.key;
    } else if (isSeq(node) && typeof seg === 'number') {
      next = deref(doc, node.items[seg]);
    }
    const start = rangeStart(next);
    if (start === undefined) break;
    node = next;
    best = start;
  }
  return lc.linePos(best);
}

/** `file:line:col` for a path. */
export function where(file: string, doc: Document, lc: LineCounter, path: KeyPath, at: 'value' | 'key' = 'value'): string {
  const p = locate(doc, lc, path, at);
  return `${file}:${p.line}:${p.col}`;
}
