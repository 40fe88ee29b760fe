/**
 * What a message typed into a terminal may be, in one place for every path (the session
 * manager before anything runs, src/ops/tmux.ts on this machine, over SSH and inside
 * ennio-node, whose SendMessage answers INVALID_ARGUMENT with the same text).
 *
 * - NUL: a terminal cannot carry it (tmux drops it, argv cannot hold it, the daemon's
 *   shell cut the message there), so a message with one is refused whole.
 * - CRLF and a lone CR are one line break each: tmux pastes "\n" as Enter (CR), so a
 *   CRLF would otherwise arrive as two.
 * - A terminal in canonical mode (a program that reads lines) holds at most 4095 bytes
 *   per line (the kernel's N_TTY buffer is 4096 with room for the newline); anything
 *   longer is silently cut, so such a line is refused. Raw-mode agents have no limit.
 */
import { EnnioError } from '../core/errors.js';

export const CANONICAL_LINE_MAX_BYTES = 4095;

/** The message as it will be typed: NUL refused, CRLF and lone CR made one "\n". */
export function normalizeMessage(message: string): string {
  const nul = message.indexOf('\0');
  if (nul >= 0) {
    throw new EnnioError('INVALID_ARGUMENT', `the message contains a NUL byte (at character ${nul + 1}), which a terminal cannot carry; nothing was sent`, {
      hint: "remove the NUL bytes first, e.g. tr -d '\\000' < FILE | ennio send <id>",
    });
  }
  return message.replace(/\r\n?/g, '\n');
}

/** The byte length of the longest line (lines split at "\n"). */
export function longestLineBytes(message: string): number {
  let longest = 0;
  for (const line of message.split('\n')) longest = Math.max(longest, Buffer.byteLength(line, 'utf8'));
  return longest;
}

/** Whether some line is longer than a canonical-mode terminal can hold (then ask the terminal). */
export function exceedsCanonicalLine(message: string): boolean {
  // The whole message first: most are far shorter than one such line.
  return Buffer.byteLength(message, 'utf8') > CANONICAL_LINE_MAX_BYTES && longestLineBytes(message) > CANONICAL_LINE_MAX_BYTES;
}

export function canonicalLineTooLong(session: string, message: string): EnnioError {
  return new EnnioError(
    'INVALID_ARGUMENT',
    `a line of the message is ${longestLineBytes(message)} bytes, but the program in session ${session} reads lines from a terminal in canonical mode, ` +
      `which holds at most ${CANONICAL_LINE_MAX_BYTES} bytes per line (the rest would be cut silently); nothing was sent`,
    { hint: `break it into lines of at most ${CANONICAL_LINE_MAX_BYTES} bytes, or put the text in a file in the workspace and send its path` },
  );
}
