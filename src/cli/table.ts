/**
 * The CLI's one table style (box borders, a header row, no lines between rows), drawn here
 * instead of by a table library: `ennio status` is a hot command and every module it loads
 * is start-up time.
 */
import pc from 'picocolors';

const ANSI = /\x1b\[[0-9;]*m/g;

/** Columns a code point takes in a terminal: 0 for combining marks, 2 for wide (CJK, emoji) ones. */
function columnsOf(cp: number): number {
  if ((cp >= 0x300 && cp <= 0x36f) || cp === 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  const wide =
    (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) || (cp >= 0x20000 && cp <= 0x3fffd);
  return wide ? 2 : 1;
}

/** How many terminal columns text takes (colour codes take none). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text.replace(ANSI, '')) width += columnsOf(ch.codePointAt(0)!);
  return width;
}

export interface TableStyle {
  /** Colour the header and borders (a terminal); plain text otherwise. */
  color: boolean;
}

export function table(head: string[], rows: Array<Array<string | number>>, style: TableStyle = { color: process.stdout.isTTY === true }): string {
  const border = (s: string): string => (style.color ? pc.gray(s) : s);
  const heading = (s: string): string => (style.color ? pc.cyan(s) : s);
  // A cell may hold several lines (an error reason): the row grows, as a terminal table does.
  const cells = [head, ...rows.map((r) => r.map(String))].map((row) => head.map((_, i) => (row[i] ?? '').split('\n')));
  const widths = head.map((_, i) => Math.max(...cells.map((row) => Math.max(...row[i]!.map(displayWidth)))));
  const rule = (left: string, mid: string, right: string): string => border(left + widths.map((w) => '─'.repeat(w + 2)).join(mid) + right);
  const lines = [rule('┌', '┬', '┐')];
  cells.forEach((row, r) => {
    const height = Math.max(...row.map((c) => c.length));
    for (let l = 0; l < height; l++) {
      const parts = row.map((c, i) => {
        const text = c[l] ?? '';
        const padded = ` ${text}${' '.repeat(widths[i]! - displayWidth(text))} `;
        return r === 0 ? heading(padded) : padded;
      });
      lines.push(border('│') + parts.join(border('│')) + border('│'));
    }
  });
  lines.push(rule('└', '┴', '┘'));
  return lines.join('\n');
}
