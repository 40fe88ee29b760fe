/**
 * What a slow operation is waiting for ("reconnecting to build-server (3 s)…"), reported
 * to whoever runs the operation. Code deep down (the SSH connection) calls `progress()`;
 * where the text goes is decided per operation with `withProgressSink()`: the CLI's
 * default writes one updating line on stderr (TTY only); an orchestrator serving a
 * request installs a sink that forwards the text to its client. AsyncLocalStorage carries
 * the sink through awaits and timers, so concurrent requests never see each other's text.
 *
 * A sink receives the current text, or '' when there is nothing to wait for any more.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { stderrSink, type ProgressSink } from './progress-sinks.js';

export { silentSink, stderrSink, type ProgressSink } from './progress-sinks.js';

const store = new AsyncLocalStorage<ProgressSink>();

/** Run `fn` with progress going to `sink` (also for everything it starts: awaits, timers). */
export function withProgressSink<T>(sink: ProgressSink, fn: () => T): T {
  return store.run(sink, fn);
}

/**
 * Report what the current operation waits for; '' says it is no longer waiting. Several
 * concurrent waits of one operation are told apart with `progressTask()`.
 */
export function progress(text: string): void {
  currentSink()(text);
}

/**
 * One of possibly several concurrent waits (e.g. `status` checking hosts in parallel):
 * the sink shows the most recent text of the tasks still open and is cleared only when
 * the last one is done, so parallel waits do not blank each other's line.
 */
export interface ProgressTask {
  update(text: string): void;
  done(): void;
}

interface SinkState {
  open: Map<symbol, string>;
}
const states = new WeakMap<ProgressSink, SinkState>();

export function progressTask(): ProgressTask {
  const sink = currentSink();
  let state = states.get(sink);
  if (!state) {
    state = { open: new Map() };
    states.set(sink, state);
  }
  const s = state;
  const id = Symbol('progress');
  let finished = false;
  return {
    update(text) {
      if (finished) return;
      s.open.set(id, text);
      sink(text);
    },
    done() {
      if (finished) return;
      finished = true;
      const had = s.open.delete(id);
      if (!had) return;
      const rest = [...s.open.values()];
      sink(rest.length > 0 ? (rest[rest.length - 1] as string) : '');
    },
  };
}

function currentSink(): ProgressSink {
  return store.getStore() ?? stderrSink;
}
