/**
 * ENNIO_TRACE=1: timestamped lines on stderr (ms since the process started) at the steps
 * a command waits for — module loading, config, store, connect, each remote command — so
 * a slow command can be taken apart without a profiler. Off: one boolean check.
 */
const enabled = process.env['ENNIO_TRACE'] === '1';

export function trace(what: string): void {
  if (enabled) process.stderr.write(`[ennio ${performance.now().toFixed(1).padStart(7)} ms] ${what}\n`);
}

export const tracing = enabled;

if (enabled) process.once('exit', () => trace('exit'));
