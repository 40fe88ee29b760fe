/**
 * A session's terminal in xterm.js, streamed over a WebSocket from the orchestrator
 * (protocol: src/server/terminal-ws.ts). The pane's size is the server's to say: the
 * browser proposes the size that fits its box, tmux answers with the pane's real size,
 * and the terminal takes exactly that size before the screen is redrawn into it.
 */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal, type ITheme } from '@xterm/xterm';
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';

const DARK: ITheme = { background: '#14161b', foreground: '#d8dee9', cursor: '#d8dee9', selectionBackground: '#3b4252' };
const LIGHT: ITheme = {
  background: '#fbfbfa', foreground: '#24292f', cursor: '#24292f', selectionBackground: '#c8d7f0',
  black: '#24292f', white: '#6e7781', brightWhite: '#8c959f', yellow: '#9a6700', brightYellow: '#7d4e00',
};
const RETRY_MS = [1000, 2000, 4000, 7000, 10_000];

const dark = (): boolean => matchMedia('(prefers-color-scheme: dark)').matches;

export type TerminalState = { kind: 'connecting' } | { kind: 'live' } | { kind: 'ended'; reason: string } | { kind: 'error'; message: string };

/** `generation` changes when the session was restored: connect again. */
export function TerminalView({ id, generation }: { id: string; generation: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<TerminalState>({ kind: 'connecting' });

  useEffect(() => {
    const el = box.current!;
    const term = new Terminal({
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
      fontSize: 13,
      scrollback: 5000,
      cursorBlink: true,
      theme: dark() ? DARK : LIGHT,
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(el);
    const scheme = matchMedia('(prefers-color-scheme: dark)');
    const onScheme = (): void => void (term.options.theme = dark() ? DARK : LIGHT);
    scheme.addEventListener('change', onScheme);

    let ws: WebSocket | undefined;
    let closed = false;
    let failures = 0;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let proposed = { cols: 0, rows: 0 };
    const send = (msg: unknown): void => {
      if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
    };
    const fitSize = (): { cols: number; rows: number } => {
      const d = fit.proposeDimensions();
      return d && d.cols > 0 && d.rows > 0 ? { cols: d.cols, rows: d.rows } : { cols: 120, rows: 36 };
    };
    const connect = (): void => {
      proposed = fitSize();
      const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/sessions/${encodeURIComponent(id)}/terminal?cols=${proposed.cols}&rows=${proposed.rows}`;
      const socket = new WebSocket(url);
      ws = socket;
      socket.binaryType = 'arraybuffer';
      let ended = false;
      socket.onopen = () => {
        failures = 0;
      };
      socket.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
        if (typeof e.data !== 'string') return term.write(new Uint8Array(e.data));
        const msg = JSON.parse(e.data) as { type: string; cols?: number; rows?: number; reason?: string; message?: string; hint?: string };
        if (msg.type === 'size' && msg.cols && msg.rows) {
          term.resize(msg.cols, msg.rows);
          setState({ kind: 'live' }); // the screen follows at once
        }
        else if (msg.type === 'end') {
          ended = true;
          setState({ kind: 'ended', reason: msg.reason ?? 'ended' });
        } else if (msg.type === 'error') {
          ended = true;
          setState({ kind: 'error', message: `${msg.message ?? 'no terminal'}${msg.hint ? ` (${msg.hint})` : ''}` });
        }
      };
      socket.onclose = () => {
        if (closed || ended) return;
        // A dropped stream (orchestrator restarted, network): connect again with backoff.
        setState({ kind: 'connecting' });
        retry = setTimeout(connect, RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)]);
      };
    };
    connect();

    const keys = term.onData((data) => send({ type: 'keys', data }));
    // Pastes go as pastes: tmux adds bracketed-paste markers only if the program asked for them.
    const onPaste = (e: ClipboardEvent): void => {
      const text = e.clipboardData?.getData('text/plain');
      if (!text) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      send({ type: 'paste', data: text });
    };
    el.addEventListener('paste', onPaste, true);
    const observer = new ResizeObserver(() => {
      const next = fitSize();
      if (next.cols === proposed.cols && next.rows === proposed.rows) return;
      proposed = next;
      send({ type: 'resize', ...next });
    });
    observer.observe(el);
    (window as unknown as { ennioTerminal?: Terminal }).ennioTerminal = term; // for tests and benches
    return () => {
      closed = true;
      clearTimeout(retry);
      observer.disconnect();
      keys.dispose();
      el.removeEventListener('paste', onPaste, true);
      scheme.removeEventListener('change', onScheme);
      ws?.close();
      term.dispose();
    };
  }, [id, generation]);

  return html`
    <div class="terminal-wrap">
      <div class="term-box" ref=${box} aria-label=${`Terminal of ${id}`}></div>
      ${state.kind !== 'live'
        ? html`<div class=${`terminal-note ${state.kind}`} role="status">
            ${state.kind === 'connecting' ? 'connecting…' : state.kind === 'ended' ? `terminal closed: ${state.reason}` : state.message}
          </div>`
        : null}
    </div>
  `;
}
