/**
 * A session's tmux pane, streamed: one control-mode client (`tmux -C attach`) on the
 * session's host — a child process locally, one exec channel over SSH — that sends the
 * screen once and then every byte the program writes (`%output`), never polling.
 *
 * The screen is sent as a snapshot (pane state + capture-pane, on one command line) each
 * time the pane's size changes; `%output` read before the snapshot's answer is dropped,
 * because tmux answers in order and the snapshot already shows it.
 */
import { EnnioError } from '../core/errors.js';
import type { Host, HostStream } from '../host/host.js';
import {
  ControlStreamParser, controlAttachArgv, layoutSize, parsePaneState, pasteLines, resizeLine, screenBytes, sendKeysLine,
  snapshotLine, type PaneState,
} from '../ops/tmux-control.js';
import { exactTarget, type TmuxServer } from '../ops/tmux.js';
import type { TerminalSize, TerminalStream } from './types.js';

/** Scrollback sent with the first screen. */
const HISTORY_LINES = 1000;
/** tmux takes a command line of any length, but a huge paste is sent in pieces. */
const PASTE_CHUNK = 16 * 1024;

type Answer = (ok: boolean, lines: string[]) => void;

class TmuxTerminal implements TerminalStream {
  private readonly answers: Answer[] = [];
  private readonly outputListeners: Array<(bytes: Buffer) => void> = [];
  private readonly sizeListeners: Array<(size: TerminalSize) => void> = [];
  private readonly endListeners: Array<(why: string) => void> = [];
  private paneId: string | undefined;
  private snapshotting = false;
  private shown: TerminalSize | undefined;
  private ended: string | undefined;
  private pastes = 0;
  /** Resolves once tmux says the client is attached: commands sent earlier may find no client. */
  private attached!: () => void;
  private readonly ready = new Promise<void>((resolve) => (this.attached = resolve));
  /** Output before anyone listens (the first screen is drawn while opening): given to the first listener. */
  private held: Buffer[] | undefined = [];

  constructor(
    private readonly stream: HostStream,
    private readonly name: string,
  ) {
    const parser = new ControlStreamParser({
      block: (ours, ok, lines) => ours && this.answers.shift()?.(ok, lines),
      output: (pane, bytes) => {
        if (pane === this.paneId && !this.snapshotting) this.emit(bytes);
      },
      notification: (line) => this.notification(line),
    });
    stream.onData((chunk) => parser.feed(chunk));
    stream.onClose((why) => this.end(why));
  }

  private notification(line: string): void {
    if (line.startsWith('%session-changed')) this.attached();
    if (line.startsWith('%exit')) this.end(`session ${this.name} ended${line.length > 5 ? ` (${line.slice(6)})` : ''}`);
    const size = layoutSize(line);
    if (size && this.shown && (size.cols !== this.shown.cols || size.rows !== this.shown.rows)) this.snapshot();
  }

  private command(line: string, blocks = 1): Promise<string[][]> {
    if (this.ended !== undefined) return Promise.reject(new EnnioError('SESSION_STATE', this.ended));
    const results: Array<Promise<string[]>> = [];
    for (let i = 0; i < blocks; i++) {
      results.push(
        new Promise((resolve, reject) =>
          this.answers.push((ok, lines) => (ok ? resolve(lines) : reject(new EnnioError('COMMAND_FAILED', `tmux: ${lines.join(' ')}`)))),
        ),
      );
    }
    this.stream.write(`${line}\n`);
    return Promise.all(results);
  }

  async start(size: TerminalSize): Promise<void> {
    await Promise.race([this.ready, new Promise<void>((resolve) => this.onEnd(() => resolve()))]);
    const [[id]] = (await this.command(`display-message -p -t ${exactTarget(this.name)} "#{pane_id}"`)) as [[string]];
    this.paneId = id.trim();
    await this.command(resizeLine(size.cols, size.rows));
    await this.snapshot();
  }

  /**
   * Send the whole screen. Output is held back from the moment the command is written;
   * the answer is handled synchronously in the parser's callback, before the next line.
   */
  private snapshot(): Promise<void> {
    if (this.snapshotting || this.paneId === undefined) return Promise.resolve();
    this.snapshotting = true;
    let state: PaneState | undefined;
    return new Promise<void>((resolve, reject) => {
      this.answers.push((ok, lines) => {
        if (ok) state = parsePaneState(lines[0] ?? '');
      });
      this.answers.push((ok, lines) => {
        this.snapshotting = false;
        if (!ok || !state) return reject(new EnnioError('COMMAND_FAILED', `tmux capture-pane failed: ${lines.join(' ')}`));
        this.shown = { cols: state.cols, rows: state.rows };
        for (const l of this.sizeListeners) l(this.shown);
        this.emit(screenBytes(state, lines));
        resolve();
      });
      this.stream.write(`${snapshotLine(this.paneId!, HISTORY_LINES)}\n`);
    }).catch((err: unknown) => this.end(err instanceof Error ? err.message : String(err)));
  }

  private emit(bytes: Buffer): void {
    if (this.held) this.held.push(bytes);
    else for (const l of this.outputListeners) l(bytes);
  }

  onOutput(listener: (bytes: Buffer) => void): void {
    this.outputListeners.push(listener);
    const held = this.held;
    this.held = undefined;
    for (const b of held ?? []) listener(b);
  }

  onSize(listener: (size: TerminalSize) => void): void {
    this.sizeListeners.push(listener);
    if (this.shown) listener(this.shown);
  }

  onEnd(listener: (why: string) => void): void {
    if (this.ended === undefined) this.endListeners.push(listener);
    else listener(this.ended);
  }

  keys(text: string): void {
    if (this.paneId && text) void this.command(sendKeysLine(this.paneId, text)).catch(() => {});
  }

  paste(text: string): void {
    if (!this.paneId || !text) return;
    for (let off = 0; off < text.length; off += PASTE_CHUNK) {
      const buffer = `ennio-web-${process.pid}-${++this.pastes}`;
      for (const line of pasteLines(this.paneId, buffer, text.slice(off, off + PASTE_CHUNK))) void this.command(line).catch(() => {});
    }
  }

  resize(size: TerminalSize): void {
    void this.command(resizeLine(size.cols, size.rows)).catch(() => {});
  }

  private end(why: string): void {
    if (this.ended !== undefined) return;
    this.ended = why;
    for (const a of this.answers.splice(0)) a(false, [why]);
    for (const l of this.endListeners.splice(0)) l(why);
    this.stream.close();
  }

  close(): void {
    this.end('closed');
  }
}

export async function openTmuxTerminal(host: Host, server: TmuxServer, name: string, size: TerminalSize): Promise<TerminalStream> {
  if (!host.openStream) throw new EnnioError('NOT_SUPPORTED', `no terminal streaming on ${host.label}`);
  const stream = await host.openStream(controlAttachArgv(server, name));
  const terminal = new TmuxTerminal(stream, name);
  try {
    await terminal.start(size);
  } catch (err) {
    terminal.close();
    throw err;
  }
  return terminal;
}
