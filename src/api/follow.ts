/** Following a session's output by comparing successive screens (shared by the CLI and the orchestrator). */

/** New lines of `next` that follow what `prev` already showed (the pane scrolls between polls). */
export function newLines(prev: string[], next: string[]): string[] {
  for (let k = Math.min(prev.length, next.length); k > 0; k--) {
    const tail = prev.slice(prev.length - k);
    for (let start = next.length - k; start >= 0; start--) {
      if (tail.every((line, i) => next[start + i] === line)) return next.slice(start + k);
    }
  }
  return next;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * Writes the first screen, then every new line, until `signal` aborts. `read(n)` returns
 * the last n lines of output.
 */
export async function followOutput(
  read: (lines: number) => Promise<string>,
  lines: number,
  onText: (text: string) => void,
  signal: AbortSignal,
  intervalMs = 300,
): Promise<void> {
  let text = await read(lines);
  if (text) onText(`${text}\n`);
  while (!signal.aborted) {
    await sleep(intervalMs, signal);
    if (signal.aborted) break;
    const next = await read(Math.max(lines, 200));
    const fresh = newLines(text.split('\n'), next.split('\n'));
    if (fresh.length) onText(`${fresh.join('\n')}\n`);
    text = next;
  }
}
