/**
 * tmux control mode (`tmux -C attach`) for streaming a pane: argv and command lines to
 * send, and a byte-level parser of what tmux answers. Pure: it runs through whichever
 * Host opens the stream (src/strategies/tmux-terminal.ts).
 *
 * What tmux writes (tmux(1) CONTROL MODE, verified with tmux 3.3a):
 * - `%begin T N F` … `%end|%error T N F` frames the output of each command; F is 1 for
 *   commands this client sent. `a ; b` on one line answers as two blocks, in order.
 * - `%output %PANE BYTES`: what the pane's program wrote, raw, with bytes below 32 and
 *   the backslash written as `\ooo` octal. Non-ASCII bytes are passed through as is, so
 *   the parser works on bytes, never on decoded text.
 * - Other lines outside a block are notifications (`%layout-change`, `%exit`, …).
 */
import { exactTarget, tmuxBase, type TmuxServer, assertSessionName } from './tmux.js';

export function controlAttachArgv(server: TmuxServer, name: string): string[] {
  assertSessionName(name);
  return [...tmuxBase(server), '-C', 'attach-session', '-t', exactTarget(name)];
}

const NL = 0x0a;
const BACKSLASH = 0x5c;

/** `%output` payload → the bytes the pane's program wrote. */
export function decodeOutput(escaped: Buffer): Buffer {
  if (!escaped.includes(BACKSLASH)) return escaped;
  const out = Buffer.allocUnsafe(escaped.length);
  let n = 0;
  for (let i = 0; i < escaped.length; i++) {
    const b = escaped[i]!;
    if (b === BACKSLASH && i + 3 < escaped.length && isOctal(escaped[i + 1]) && isOctal(escaped[i + 2]) && isOctal(escaped[i + 3])) {
      out[n++] = ((escaped[i + 1]! - 48) << 6) | ((escaped[i + 2]! - 48) << 3) | (escaped[i + 3]! - 48);
      i += 3;
    } else {
      out[n++] = b;
    }
  }
  return out.subarray(0, n);
}

function isOctal(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x37;
}

export interface ControlEvents {
  /** A command's answer (lines without their newline); `ours` is false for tmux's own blocks. */
  block(ours: boolean, ok: boolean, lines: string[]): void;
  /** Bytes a pane's program wrote. */
  output(paneId: string, bytes: Buffer): void;
  /** Any other line outside a block. */
  notification(line: string): void;
}

const OUTPUT_PREFIX = Buffer.from('%output %');

/**
 * Incremental parser of a control client's stdout. A block ends only on a line equal to
 * its own `%end/%error T N F`, so pane text that merely looks like `%end …` is content.
 */
export class ControlStreamParser {
  private pending: Buffer = Buffer.alloc(0);
  private block: { end: string; error: string; ours: boolean; lines: string[] } | undefined;

  constructor(private readonly on: ControlEvents) {}

  feed(chunk: Buffer): void {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let nl: number;
    while ((nl = data.indexOf(NL)) >= 0) {
      this.line(data.subarray(0, nl));
      data = data.subarray(nl + 1);
    }
    this.pending = Buffer.from(data);
  }

  private line(raw: Buffer): void {
    if (!this.block && raw.subarray(0, OUTPUT_PREFIX.length).equals(OUTPUT_PREFIX)) {
      const space = raw.indexOf(0x20, OUTPUT_PREFIX.length);
      if (space > 0) {
        this.on.output(raw.subarray(OUTPUT_PREFIX.length - 1, space).toString('latin1'), decodeOutput(raw.subarray(space + 1)));
        return;
      }
    }
    const line = raw.toString('utf8');
    if (this.block) {
      if (line === this.block.end || line === this.block.error) {
        const { ours, lines } = this.block;
        this.block = undefined;
        this.on.block(ours, !line.startsWith('%error'), lines);
      } else {
        this.block.lines.push(line);
      }
      return;
    }
    const m = /^%begin (\d+) (\d+) (\d+)$/.exec(line);
    if (m) {
      const tail = `${m[1]} ${m[2]} ${m[3]}`;
      this.block = { end: `%end ${tail}`, error: `%error ${tail}`, ours: m[3] === '1', lines: [] };
      return;
    }
    this.on.notification(line);
  }
}

/**
 * Text as one double-quoted word for tmux's command parser: control characters as
 * `\ooo`, every other ASCII punctuation backslash-escaped (so `$`, `~`, `#`, `;`, quotes
 * mean nothing), letters, digits and non-ASCII characters as they are (tmux's `\ooo` is
 * a code point below 256, not a byte, so UTF-8 must not be written that way).
 */
export function tmuxQuoted(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c === 0x7f) out += `\\${c.toString(8).padStart(3, '0')}`;
    else if (c < 0x80 && !/[A-Za-z0-9 ]/.test(ch)) out += `\\${ch}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Keys typed in a terminal, delivered to the pane as they are (no key-name lookup). */
export function sendKeysLine(pane: string, text: string): string {
  return `send-keys -t ${pane} -l ${tmuxQuoted(text)}`;
}

/**
 * Pasted text, through a paste buffer with `-p`: tmux adds the bracketed-paste markers
 * only if the program asked for them (the same delivery as `ennio send`).
 */
export function pasteLines(pane: string, buffer: string, text: string): string[] {
  return [`set-buffer -b ${buffer} -- ${tmuxQuoted(text)}`, `paste-buffer -p -d -b ${buffer} -t ${pane}`];
}

export function resizeLine(cols: number, rows: number): string {
  return `refresh-client -C ${Math.max(10, Math.floor(cols))}x${Math.max(3, Math.floor(rows))}`;
}

const PANE_FORMAT = [
  'pane_id', 'pane_width', 'pane_height', 'cursor_x', 'cursor_y', 'cursor_flag', 'alternate_on', 'keypad_cursor_flag',
  'keypad_flag', 'mouse_standard_flag', 'mouse_button_flag', 'mouse_any_flag', 'mouse_sgr_flag',
].map((f) => `#{${f}}`).join(' ');

/**
 * One line, two blocks: the pane's state, then its screen with `history` lines of
 * scrollback (colours as escapes, wrapped lines joined). On one line, so no pane output
 * is read between the two: the screen and the cursor belong together.
 */
export function snapshotLine(target: string, history: number): string {
  return `display-message -p -t ${target} "${PANE_FORMAT}" ; capture-pane -p -e -J -t ${target} -S -${Math.max(0, history)}`;
}

export interface PaneState {
  paneId: string;
  cols: number;
  rows: number;
  cursorX: number;
  cursorY: number;
  cursorVisible: boolean;
  alternate: boolean;
  /** Terminal modes to restore: DEC private mode numbers set on the pane. */
  modes: number[];
  keypad: boolean;
}

export function parsePaneState(line: string): PaneState {
  const [paneId = '', w, h, x, y, cursor, alt, ckm, keypad, mStd, mBtn, mAny, mSgr] = line.trim().split(' ');
  const modes: number[] = [];
  if (ckm === '1') modes.push(1);
  if (mStd === '1') modes.push(1000);
  if (mBtn === '1') modes.push(1002);
  if (mAny === '1') modes.push(1003);
  if (mSgr === '1') modes.push(1006);
  return {
    paneId, cols: Number(w), rows: Number(h), cursorX: Number(x), cursorY: Number(y),
    cursorVisible: cursor !== '0', alternate: alt === '1', modes, keypad: keypad === '1',
  };
}

/**
 * Bytes that redraw a fresh terminal of the pane's size into the pane's state: its
 * scrollback and screen with colours, the cursor where it is, and its input modes.
 * The screen is the last `rows` rows of the capture (wrapped lines joined by -J wrap
 * again at the same width), so the cursor position is relative to them.
 */
export function screenBytes(state: PaneState, capture: string[]): Buffer {
  const lines = [...capture];
  // capture-pane ends with the pane's last row; a trailing empty string is that row, not a newline to add.
  const parts = ['\x1b[0m\x1b[H\x1b[2J\x1b[3J', state.alternate ? '\x1b[?1049h\x1b[H\x1b[2J' : '', lines.join('\x1b[0m\r\n'), '\x1b[0m'];
  parts.push(`\x1b[${state.cursorY + 1};${state.cursorX + 1}H`);
  parts.push(state.cursorVisible ? '\x1b[?25h' : '\x1b[?25l');
  for (const m of state.modes) parts.push(`\x1b[?${m}h`);
  if (state.keypad) parts.push('\x1b=');
  return Buffer.from(parts.join(''), 'utf8');
}

/** `%layout-change @W LAYOUT …`: the window's size, from its layout string (`csum,WxH,x,y…`). */
export function layoutSize(notification: string): { cols: number; rows: number } | undefined {
  const m = /^%layout-change \S+ [0-9a-f]{4},(\d+)x(\d+),/.exec(notification);
  return m ? { cols: Number(m[1]), rows: Number(m[2]) } : undefined;
}
