/**
 * The wire format of a pooled shell channel, as pure functions. A channel runs `sh`
 * reading commands from its stdin; each operation is written as one "frame":
 *
 *   ( cd -- DIR && exec env K=V [timeout -s KILL S] ARGV… ) </dev/null
 *   ; __ennio_s=$?; printf '\n%s\n' NONCE >&2; printf '\n%s:%s\n' NONCE "$__ennio_s"
 *
 * - every word is single-quoted by shellQuote, so nothing in argv is ever interpreted;
 * - the command runs in a subshell and is exec'd, so `cd`, `exit` or `export` in argv
 *   cannot change the long-lived shell (they fail with 127, as with LocalHost's spawn);
 * - stdin never reaches the channel (which carries the next frames): it is /dev/null, or
 *   the input as base64 on the command line: `printf %s B64 | base64 -d | ( … )`;
 * - a per-frame random NONCE ends stdout (with the exit status) and stderr; output cannot
 *   forge it because it is not known in advance.
 */
import { randomBytes } from 'node:crypto';
import { EnnioError } from '../../core/errors.js';
import { shellQuote } from '../../ops/shell-quote.js';

export interface FrameSpec {
  argv: readonly string[];
  cwd?: string;
  env?: Record<string, string>;
  input?: string | Buffer;
  /** Wrap in `timeout` (coreutils/busybox) so the remote process dies on time. */
  timeoutSeconds?: number;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function newNonce(): string {
  return `__ennio_${randomBytes(12).toString('hex')}`;
}

/** The subshell running argv (without stdin handling). */
export function commandLine(spec: FrameSpec): string {
  if (spec.argv.length === 0) throw new EnnioError('INVALID_ARGUMENT', 'exec: empty argv');
  const words: string[] = [];
  const env = Object.entries(spec.env ?? {});
  if (env.length > 0) {
    words.push('env');
    for (const [key, value] of env) {
      if (!ENV_NAME.test(key)) throw new EnnioError('INVALID_ARGUMENT', `invalid environment variable name ${JSON.stringify(key)}`);
      words.push(shellQuote(`${key}=${value}`));
    }
  }
  if (spec.timeoutSeconds !== undefined) {
    // SIGKILL, as LocalHost does: the same command behaves the same on every host.
    words.push('timeout', '-s', 'KILL', formatSeconds(spec.timeoutSeconds));
  }
  words.push(...spec.argv.map(shellQuote));
  const cd = spec.cwd !== undefined ? `cd -- ${shellQuote(spec.cwd)} && ` : '';
  return `( ${cd}exec ${words.join(' ')} )`;
}

function formatSeconds(s: number): string {
  return String(Math.max(0.001, Math.round(s * 1000) / 1000));
}

/** A whole frame: the command with its stdin, then the two end markers. Ends in a newline. */
export function buildFrame(spec: FrameSpec, nonce: string): string {
  const input = spec.input === undefined ? undefined : Buffer.isBuffer(spec.input) ? spec.input : Buffer.from(spec.input, 'utf8');
  const cmd = commandLine(spec);
  const run = input && input.length > 0 ? `printf %s ${input.toString('base64')} | base64 -d | ${cmd}` : `${cmd} </dev/null`;
  return `${run}; ${markers(nonce)}\n`;
}

/** A frame for a raw shell snippet we wrote ourselves (channel start-up probes). */
export function buildRawFrame(snippet: string, nonce: string): string {
  return `${snippet} </dev/null; ${markers(nonce)}\n`;
}

function markers(nonce: string): string {
  return `__ennio_s=$?; printf '\\n%s\\n' ${nonce} >&2; printf '\\n%s:%s\\n' ${nonce} "$__ennio_s"`;
}

/** Finds a marker in a stream arriving in chunks without re-scanning (or copying) all of it. */
class MarkerScanner {
  private chunks: Buffer[] = [];
  private length = 0;
  private tail = Buffer.alloc(0);
  /** Offset of the marker in the whole stream, or -1. */
  found = -1;

  constructor(private readonly marker: Buffer) {}

  push(chunk: Buffer): void {
    if (this.found < 0) {
      const window = Buffer.concat([this.tail, chunk]);
      const idx = window.indexOf(this.marker);
      if (idx >= 0) this.found = this.length - this.tail.length + idx;
      else this.tail = window.subarray(Math.max(0, window.length - (this.marker.length - 1)));
    }
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  all(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.length)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }
}

export interface FrameResult {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
}

/** Collects a frame's stdout/stderr until both markers arrived. */
export class FrameParser {
  private readonly out: MarkerScanner;
  private readonly err: MarkerScanner;
  private readonly outMarker: Buffer;
  private readonly errMarker: Buffer;

  constructor(nonce: string) {
    this.outMarker = Buffer.from(`\n${nonce}:`, 'latin1');
    this.errMarker = Buffer.from(`\n${nonce}\n`, 'latin1');
    this.out = new MarkerScanner(this.outMarker);
    this.err = new MarkerScanner(this.errMarker);
  }

  push(stream: 'out' | 'err', chunk: Buffer): void {
    (stream === 'out' ? this.out : this.err).push(chunk);
  }

  /** The result once complete, else undefined. */
  result(): FrameResult | undefined {
    if (this.out.found < 0 || this.err.found < 0) return undefined;
    const out = this.out.all();
    const statusStart = this.out.found + this.outMarker.length;
    const end = out.indexOf(0x0a, statusStart);
    if (end < 0) return undefined;
    const code = Number(out.subarray(statusStart, end).toString('latin1'));
    return {
      code: Number.isInteger(code) ? code : 255,
      stdout: out.subarray(0, this.out.found),
      stderr: this.err.all().subarray(0, this.err.found),
    };
  }

  /** What arrived so far (for a timed-out command). */
  partial(): { stdout: Buffer; stderr: Buffer } {
    return { stdout: this.out.all(), stderr: this.err.all() };
  }
}
