/**
 * POSIX shell quoting, used only where a command must cross a shell (the SSH exec
 * request, `sh -c` launch commands). Every word becomes one single-quoted word, so
 * `$( )`, backticks, `;`, quotes, newlines and non-ASCII arrive verbatim.
 */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
