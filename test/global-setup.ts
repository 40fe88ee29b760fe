import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** The e2e tests drive the built CLI and daemon: build once before any test file runs (once for both projects). */
export default function setup(): void {
  const g = globalThis as { __ennioBuilt?: boolean };
  if (g.__ennioBuilt) return;
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: resolve(import.meta.dirname, '..'), stdio: 'inherit' });
  g.__ennioBuilt = true;
}
