/**
 * The dashboard's pure parts (control-mode parsing and quoting, the screen snapshot,
 * sign-in tokens) and the terminal stream against a real tmux server.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LocalHost } from '../src/host/local-host.js';
import {
  ControlStreamParser, decodeOutput, layoutSize, parsePaneState, screenBytes, sendKeysLine, tmuxQuoted,
} from '../src/ops/tmux-control.js';
import { lastLine } from '../src/server/live-feed.js';
import { BrowserAuth, cookieValue, sameOrigin } from '../src/server/web-auth.js';
import { openTmuxTerminal } from '../src/strategies/tmux-terminal.js';
import type { TerminalStream } from '../src/strategies/types.js';
import { waitFor } from './helpers/cli.js';
import { killTmuxServer } from './helpers/tmux-server.js';

function parse(chunks: Buffer[]): { blocks: Array<[boolean, boolean, string[]]>; output: Buffer; notes: string[] } {
  const blocks: Array<[boolean, boolean, string[]]> = [];
  const outs: Buffer[] = [];
  const notes: string[] = [];
  const p = new ControlStreamParser({ block: (o, ok, l) => blocks.push([o, ok, l]), output: (_pane, b) => outs.push(b), notification: (l) => notes.push(l) });
  for (const c of chunks) p.feed(c);
  return { blocks, output: Buffer.concat(outs), notes };
}

describe('tmux control mode parsing', () => {
  it('decodes %output octal escapes and keeps raw UTF-8 bytes, also split across chunks', () => {
    expect(decodeOutput(Buffer.from('a\\033[31mb\\134c\\015\\012'))).toEqual(Buffer.from('a\x1b[31mb\\c\r\n'));
    const text = Buffer.from('%output %3 h\\303é中\n', 'utf8');
    const cut = text.indexOf(0xe4) + 1; // inside 中
    const { output } = parse([text.subarray(0, cut), text.subarray(cut)]);
    expect(output).toEqual(Buffer.concat([Buffer.from('h'), Buffer.from([0o303]), Buffer.from('é中')]));
  });

  it('frames blocks by their own %end line; pane text that looks like one is content', () => {
    const { blocks, notes } = parse([Buffer.from('%begin 1 5 1\n%end 1 4 1\nline\n%end 1 5 1\n%begin 1 6 0\n%end 1 6 0\n%layout-change @1 b25d,80x24,0,0,1 b25d,80x24,0,0,1 *\n')]);
    expect(blocks).toEqual([[true, true, ['%end 1 4 1', 'line']], [false, true, []]]);
    expect(notes).toEqual(['%layout-change @1 b25d,80x24,0,0,1 b25d,80x24,0,0,1 *']);
    expect(layoutSize(notes[0]!)).toEqual({ cols: 80, rows: 24 });
    expect(parse([Buffer.from('%begin 2 7 1\nno such pane\n%error 2 7 1\n')]).blocks).toEqual([[true, false, ['no such pane']]]);
  });

  it('quotes keys so that nothing in them means anything to tmux', () => {
    expect(tmuxQuoted('a b')).toBe('"a b"');
    expect(tmuxQuoted('\r\x1b[A\x7f')).toBe('"\\015\\033\\[A\\177"');
    expect(tmuxQuoted('$HOME ~ "x" \\ ; #{pane_id} é中')).toBe('"\\$HOME \\~ \\"x\\" \\\\ \\; \\#\\{pane\\_id\\} é中"');
    expect(sendKeysLine('%4', 'q')).toBe('send-keys -t %4 -l "q"');
  });

  it('redraws a screen with the cursor where the pane has it, and its modes', () => {
    const state = parsePaneState('%2 80 3 5 1 0 0 1 0 1 0 0 1');
    expect(state).toMatchObject({ paneId: '%2', cols: 80, rows: 3, cursorX: 5, cursorY: 1, cursorVisible: false, alternate: false, modes: [1, 1000, 1006] });
    const bytes = screenBytes(state, ['old', 'one', 'two', '']).toString('utf8');
    expect(bytes).toContain('old\x1b[0m\r\none\x1b[0m\r\ntwo\x1b[0m\r\n\x1b[0m');
    expect(bytes).toContain('\x1b[2;6H\x1b[?25l\x1b[?1h\x1b[?1000h\x1b[?1006h');
  });

  it('takes the last line that says something for the overview', () => {
    expect(lastLine('demo-agent: committed abc\n› \n\n')).toBe('demo-agent: committed abc');
    expect(lastLine('Running tests… 12/40   \n')).toBe('Running tests… 12/40');
    expect(lastLine('\n\n')).toBe('');
  });
});

describe('browser sign-in', () => {
  const req = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;
  const caller = { cwd: '/tmp', env: { A: '1' } };

  it('redeems a login token once, for the caller that asked', () => {
    const auth = new BrowserAuth();
    const { token } = auth.mintLogin(caller);
    const granted = auth.redeem(token);
    expect(granted).toBeDefined();
    expect(auth.redeem(token)).toBeUndefined();
    expect(auth.callerOf(req({ cookie: `other=1; ennio_session=${granted!.cookie}` }))).toBe(caller);
    expect(auth.callerOf(req({ cookie: 'ennio_session=forged' }))).toBeUndefined();
  });

  it('refuses a login token after it expired', () => {
    vi.useFakeTimers();
    try {
      const auth = new BrowserAuth();
      const { token } = auth.mintLogin(caller);
      vi.advanceTimersByTime(6 * 60_000);
      expect(auth.redeem(token)).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('reads cookies and compares origins exactly', () => {
    expect(cookieValue('a=1; ennio_session=xyz; b=2', 'ennio_session')).toBe('xyz');
    expect(cookieValue('ennio_session_other=1', 'ennio_session')).toBeUndefined();
    expect(sameOrigin(req({ host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000' }))).toBe(true);
    expect(sameOrigin(req({ host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3001' }))).toBe(false);
    expect(sameOrigin(req({ host: '127.0.0.1:3000', origin: 'http://127.0.0.1:3000.evil.example' }))).toBe(false);
    expect(sameOrigin(req({ host: '127.0.0.1:3000' }))).toBe(false);
  });
});

describe('terminal stream on a real tmux', () => {
  const socket = `ennio-units-${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]): string => spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' }).stdout;
  let terminal: TerminalStream | undefined;
  const received: Buffer[] = [];
  const sizes: Array<{ cols: number; rows: number }> = [];

  const dir = mkdtempSync(join(tmpdir(), 'ennio-units-'));
  const typed = join(dir, 'typed');
  const bytesTyped = (): string => (existsSync(typed) ? readFileSync(typed, 'utf8') : '');

  beforeAll(async () => {
    // A raw terminal and `cat` into a file: the file holds exactly the bytes the keys became.
    tmux('new-session', '-d', '-s', 'units', '-x', '80', '-y', '24', 'sh', '-c', 'stty raw -echo; printf "ready to read"; exec cat > "$0"', typed);
    terminal = await openTmuxTerminal(new LocalHost(), { socket }, 'units', { cols: 100, rows: 30 });
    terminal.onOutput((b) => received.push(b));
    terminal.onSize((s) => sizes.push(s));
  });
  afterAll(() => {
    terminal?.close();
    killTmuxServer(socket);
    rmSync(dir, { recursive: true, force: true });
  });

  it('sizes the pane to the viewer and streams what the program writes', async () => {
    expect(sizes[0]).toEqual({ cols: 100, rows: 30 });
    expect(tmux('display-message', '-p', '-t', '=units:', '#{pane_width}x#{pane_height}').trim()).toBe('100x30');
    await waitFor(() => Buffer.concat(received).toString('utf8').includes('ready to read'), 'what the program wrote');
  });

  it('delivers keys byte for byte: quotes, $, ~, #{}, ; and control keys', async () => {
    const keys = `$HOME ~ "q" 'q' \\ ; #{pane_id} é中\x01\x1b[A\r`;
    terminal!.keys(keys);
    await waitFor(() => bytesTyped() === keys, 'the keys in the program');
    terminal!.paste('pasted\nlines');
    await waitFor(() => bytesTyped() === `${keys}pasted\rlines`, 'the paste in the program');
  });

  it('sends a new screen at the new size when the viewer resizes', async () => {
    terminal!.resize({ cols: 60, rows: 20 });
    await waitFor(() => sizes.some((s) => s.cols === 60 && s.rows === 20), 'the new size');
  });
});
