import { defineConfig } from 'vitest/config';

// E2E tests start real sshd/tmux/daemons; they share this 2-core machine, so run files
// with limited parallelism and generous timeouts (no timed assertions inside tests).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
