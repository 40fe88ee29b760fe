// Runs the whole suite with vitest and ends with one plain line `N passed, N failed`
// (CI reads that line; vitest's own summary is styled differently). Extra arguments
// go to vitest, e.g. `npm test -- test/local-sessions.test.ts`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const results = join(tmpdir(), `ennio-vitest-${process.pid}.json`);
const run = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);
let summary = 'no test results were written';
let failed = 1;
if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  // A file that failed to load has no test results of its own: count it as one failure.
  const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
  failed = r.numFailedTests + brokenFiles;
  const skipped = r.numPendingTests + (r.numTodoTests ?? 0);
  summary = `${r.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
  if (r.numTotalTests === 0) failed = 1;
  rmSync(results, { force: true });
}
console.log(summary);
process.exit(run.status === 0 && failed === 0 ? 0 : (run.status || 1));
