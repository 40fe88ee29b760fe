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

/** Failures of the link that a later attempt can get past (a host key or login refusal cannot). */
const LINK_ERRORS: ReadonlySet<string> = new Set(['SSH_CONNECT', 'SSH_CHANNEL', 'NODE_UNAVAILABLE']);

/** Capped backoff between attempts while the link is down: 1, 2, 4, 7, 10 s. */
function retryDelayMs(failures: number): number {
  return [1000, 2000, 4000, 7000, 10_000][Math.min(failures, 5) - 1] ?? 10_000;
}

/**
 * Writes the first screen, then every new line, until `signal` aborts. `read(n)` returns
 * the last n lines of output. A cut link does not end a follow: `onNotice` says so, and
 * it keeps asking, with backoff, until the link is back.
 */
export async function followOutput(
  read: (lines: number) => Promise<string>,
  lines: number,
  onText: (text: string) => void,
  signal: AbortSignal,
  onNotice: (text: string) => void = () => {},
  intervalMs = 300,
): Promise<void> {
  let text = await read(lines);
  if (text) onText(`${text}\n`);
  let failures = 0;
  while (!signal.aborted) {
    await sleep(failures === 0 ? intervalMs : retryDelayMs(failures), signal);
    if (signal.aborted) break;
    let next: string;
    try {
      next = await read(Math.max(lines, 200));
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== 'string' || !LINK_ERRORS.has(code)) throw err;
      failures += 1;
      onNotice(`logs: ${(err as Error).message}; retrying in ${Math.round(retryDelayMs(failures) / 1000)} s…`);
      continue;
    }
    if (failures > 0) onNotice('logs: connection is back; resuming');
    failures = 0;
    const fresh = newLines(text.split('\n'), next.split('\n'));
    if (fresh.length) onText(`${fresh.join('\n')}\n`);
    text = next;
  }
}
