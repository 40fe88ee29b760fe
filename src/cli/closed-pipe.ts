/**
 * `ennio status | head -3`: the reader goes away before ennio has written everything, and
 * the next write fails with EPIPE. Node would print a stack trace for that; a command-line
 * tool stops quietly instead, with the status a SIGPIPE'd one has (128 + 13, as git and
 * coreutils give under `set -o pipefail`). Any other stream error is left as it was.
 * stdout only: creating process.stderr up front costs every command ~3 ms, and a closed
 * stderr has nobody to show a stack trace to anyway.
 */
export const CLOSED_PIPE_EXIT = 141;

export function quietOnClosedPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(CLOSED_PIPE_EXIT);
    throw err;
  });
}
