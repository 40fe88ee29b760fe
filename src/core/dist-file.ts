/**
 * Files that scripts/build.mjs writes next to dist/cli.js (the daemon bundle, the demo
 * agent). The code asking for them may run from dist/cli.js, from a code-split chunk in
 * dist/chunks/, or from source under vitest, so each of those places is tried.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function distFileCandidates(name: string): string[] {
  return [`./${name}`, `../${name}`, `../../dist/${name}`].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
}

/** The first existing candidate, or undefined. */
export function findDistFile(name: string): string | undefined {
  return distFileCandidates(name).find((p) => existsSync(p));
}
