/**
 * Where progress text (progress.ts) can go: nowhere, or one line on stderr. Apart from
 * progress.ts because the CLI's fast path needs the sinks but not AsyncLocalStorage.
 */

/** Receives the current text, or '' when there is nothing to wait for any more. */
export type ProgressSink = (text: string) => void;

/** Shows nothing (--json output, a server with no client listening). */
export const silentSink: ProgressSink = () => undefined;

/**
 * Shown when stderr is a terminal; ENNIO_PROGRESS=1 forces it on (tests, `script`),
 * ENNIO_PROGRESS=0 off. On a terminal the line is rewritten in place and erased when
 * done; when forced onto a non-terminal, each new text is one line.
 */
function stderrEnabled(): boolean {
  const forced = process.env['ENNIO_PROGRESS'];
  if (forced === '0') return false;
  return forced === '1' || process.stderr.isTTY === true;
}

let shown = '';
export const stderrSink: ProgressSink = (text) => {
  if (text === shown || !stderrEnabled()) return;
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${text}`);
  else if (text) process.stderr.write(`${text}\n`);
  shown = text;
};
