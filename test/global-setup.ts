import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** The e2e tests drive the built CLI and daemon: build once before any test file runs. */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: resolve(import.meta.dirname, '..'), stdio: 'inherit' });
}
