/**
 * The built-in demo agent (dist/demo-agent.cjs): a tiny stand-in for a coding agent.
 * It reads messages like a TUI agent does (raw terminal, bracketed paste, Enter submits),
 * answers each one with its size and SHA-256 (so tests can prove a message arrived
 * intact), appends it to NOTES.md in its workspace and commits that file.
 * Messages: "exit" ends it with status 0, "exit N" with status N.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const PASTE_START = '\x1b[200~';
const PASTE_END = '\x1b[201~';
const sessionId = process.env['ENNIO_SESSION_ID'] ?? 'unknown';
let count = 0;

function out(text: string): void {
  process.stdout.write(text.replace(/\n/g, '\r\n'));
}

function commit(note: string): string {
  const git = (...args: string[]): string =>
    execFileSync('git', ['-c', 'user.name=ennio demo agent', '-c', 'user.email=demo-agent@ennio.invalid', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  appendFileSync('NOTES.md', `- ${note.replace(/\n/g, ' ')}\n`);
  git('add', 'NOTES.md');
  git('commit', '--quiet', '-m', `demo-agent: note ${count} from ${sessionId}`);
  return git('rev-parse', '--short', 'HEAD');
}

function handle(message: string): void {
  count += 1;
  const trimmed = message.trim();
  const exit = /^exit(?:\s+(\d+))?$/.exec(trimmed);
  if (exit) {
    out(`demo-agent: bye\n`);
    process.exit(Number(exit[1] ?? 0));
  }
  const sha = createHash('sha256').update(message, 'utf8').digest('hex');
  const lines = message.split('\n').length;
  out(`\nyou> ${message.length > 200 ? `${message.slice(0, 200)}…` : message}\n`);
  out(`demo-agent: message #${count}: ${Buffer.byteLength(message)} bytes, ${lines} line(s), sha256 ${sha}\n`);
  mkdirSync('.ennio-demo', { recursive: true });
  writeFileSync(`.ennio-demo/message-${count}.txt`, message);
  try {
    out(`demo-agent: noted in NOTES.md, committed ${commit(trimmed.slice(0, 120))}\n`);
  } catch (err) {
    out(`demo-agent: could not commit: ${(err as Error).message.split('\n')[0]}\n`);
  }
  out('› ');
}

/** Raw-terminal reader: bracketed paste keeps newlines inside one message; Enter submits. */
function readTerminal(): void {
  process.stdin.setRawMode(true);
  process.stdout.write('\x1b[?2004h'); // ask the terminal (tmux) for bracketed paste
  let pending = '';
  let current = '';
  let inPaste = false;
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    pending += chunk;
    while (pending.length > 0) {
      if (inPaste) {
        const end = pending.indexOf(PASTE_END);
        if (end < 0) {
          // Keep a possible partial end marker for the next chunk.
          const keep = Math.min(pending.length, PASTE_END.length - 1);
          current += pending.slice(0, pending.length - keep).replace(/\r\n?/g, '\n');
          pending = pending.slice(pending.length - keep);
          return;
        }
        current += pending.slice(0, end).replace(/\r\n?/g, '\n');
        pending = pending.slice(end + PASTE_END.length);
        inPaste = false;
        continue;
      }
      if (pending.startsWith(PASTE_START)) {
        pending = pending.slice(PASTE_START.length);
        inPaste = true;
        continue;
      }
      if (pending.startsWith('\x1b') && PASTE_START.startsWith(pending)) return; // partial marker
      const ch = pending[0]!;
      pending = pending.slice(1);
      if (ch === '\r' || ch === '\n') {
        const message = current;
        current = '';
        if (message.length > 0) handle(message);
      } else if (ch === '\x03') {
        process.exit(130);
      } else if (ch === '\x7f') {
        current = current.slice(0, -1);
      } else if (ch >= ' ' || ch === '\t') {
        current += ch;
      }
    }
  });
}

// Terminal set up first, banner last: the orchestrator types the first prompt as soon as
// anything is drawn, and it must find raw mode and bracketed paste already on.
if (process.stdin.isTTY) readTerminal();
else createInterface({ input: process.stdin }).on('line', (line) => line && handle(line));
out(`demo-agent ready — session ${sessionId} in ${process.cwd()}\n› `);
