import { defineConfig } from 'vitest/config';

// E2E tests start real sshd/tmux/daemons; they share this 2-core machine, so run files
// with limited parallelism and generous timeouts (no timed assertions inside tests).
// Two projects: every test in-process, and the CLI end-to-end files again through the
// orchestrator (ENNIO_TEST_SERVER=1): output, errors and exit codes must be the same.
const CLI_E2E = ['test/local-cli.test.ts', 'test/activity-local.test.ts', 'test/activity-remote.test.ts', 'test/local-sessions.test.ts', 'test/local-errors.test.ts', 'test/remote-strategies.test.ts', 'test/server-*.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'in-process', include: ['test/**/*.test.ts'], exclude: ['test/server-*.test.ts'] } },
      { extends: true, test: { name: 'server', include: CLI_E2E, env: { ENNIO_TEST_SERVER: '1' } } },
    ],
  },
});
