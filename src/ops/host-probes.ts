/**
 * Several read-only checks of one host in ONE remote command. A sweep asks each host about
 * all of its sessions at once: the `tmux list-panes` of every tmux server there, plus
 * whatever other feature registers a probe for that host (agent activity state files…).
 *
 * Each probe is an argv. They run one after the other inside one `sh -c`, each between
 * marker lines on stdout and on stderr; the end marker carries the probe's exit status.
 * The markers start with a random nonce, so no probe's output can fake one. The output is
 * split back into one result per probe, exactly as if each had run on its own.
 */
import { randomBytes } from 'node:crypto';
import { EnnioError } from '../core/errors.js';
import type { ExecOptions, ExecResult, Host } from '../host/host.js';
import { shellJoin, shellQuote } from './shell-quote.js';

export interface HostProbe {
  /** Names the probe in the combined command and its result; probes with one key run once. */
  key: string;
  argv: readonly string[];
}

/** What one probe printed and how it exited (as ExecResult for a command of its own). */
export type ProbeResult = ExecResult;

const KEY = /^[A-Za-z0-9_.:@%+=,/-]{1,200}$/;

export function assertProbeKey(key: string): void {
  if (!KEY.test(key)) throw new EnnioError('INVALID_ARGUMENT', `invalid probe key ${JSON.stringify(key)}: use letters, digits and _.:@%+=,/-`);
}

const sameArgv = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** The probes once each (the first of a key wins; one key with two argvs is a bug). */
export function uniqueProbes(probes: readonly HostProbe[]): HostProbe[] {
  const byKey = new Map<string, HostProbe>();
  for (const p of probes) {
    assertProbeKey(p.key);
    if (p.argv.length === 0) throw new EnnioError('INVALID_ARGUMENT', `probe ${p.key} has an empty argv`);
    const seen = byKey.get(p.key);
    if (seen && seen !== p && !sameArgv(seen.argv, p.argv)) {
      throw new EnnioError('INTERNAL', `two different probes share the key ${p.key}`);
    }
    if (!seen) byKey.set(p.key, p);
  }
  return [...byKey.values()];
}

export function newNonce(): string {
  return `ennio-probe-${randomBytes(12).toString('hex')}`;
}

/**
 * `sh -c SCRIPT sh NONCE`: every probe in a subshell (`exec`, so a probe cannot be a shell
 * builtin that changes the script), stdin from /dev/null, between its markers.
 */
export function combinedProbeArgv(probes: readonly HostProbe[], nonce: string): string[] {
  const lines = ['m=$1'];
  for (const p of uniqueProbes(probes)) {
    const key = shellQuote(p.key);
    lines.push(
      `printf '%s %s\\n' "$m" ${key}; printf '%s %s\\n' "$m" ${key} >&2`,
      `( exec ${shellJoin(p.argv)} ) </dev/null; c=$?`,
      `printf '\\n%s =%s %s\\n' "$m" "$c" ${key}; printf '\\n%s =%s %s\\n' "$m" "$c" ${key} >&2`,
    );
  }
  return ['sh', '-c', lines.join('\n'), 'sh', nonce];
}

/** The text between a probe's start and end markers, and the status in its end marker. */
function section(text: string, nonce: string, key: string): { body: string; code: number } | undefined {
  const start = `${nonce} ${key}\n`;
  const from = text.startsWith(start) ? 0 : text.indexOf(`\n${start}`) + 1;
  if (from === 0 && !text.startsWith(start)) return undefined;
  const bodyFrom = from + start.length;
  // The nonce cannot occur in a probe's output, so the next one after the start is the end.
  const end = text.indexOf(`\n${nonce} =`, bodyFrom);
  if (end < 0) return undefined;
  const m = /^=(\d+) (\S+)\n/.exec(text.slice(end + 1 + nonce.length + 1));
  if (!m || m[2] !== key) return undefined;
  return { body: text.slice(bodyFrom, end), code: Number(m[1]) };
}

/**
 * One result per probe from the combined command's output. A probe whose markers are
 * missing (the command was cut short: timeout, killed shell) gets a failed result saying
 * so, so a caller never mistakes "did not run" for "found nothing".
 */
export function splitProbeOutput(probes: readonly HostProbe[], nonce: string, res: ExecResult): Map<string, ProbeResult> {
  const out = new Map<string, ProbeResult>();
  for (const p of uniqueProbes(probes)) {
    const o = section(res.stdout, nonce, p.key);
    const e = section(res.stderr, nonce, p.key);
    if (o) {
      out.set(p.key, { code: o.code, stdout: o.body, stderr: e?.body ?? '' });
    } else {
      const tail = res.stderr.split('\n').filter((l) => l !== '' && !l.startsWith(nonce)).slice(-3).join('; ');
      out.set(p.key, {
        code: res.code === 0 ? 1 : res.code,
        stdout: '',
        stderr: `the probe did not run to its end (the combined command exited ${res.code}${tail ? `: ${tail}` : ''})`,
      });
    }
  }
  return out;
}

/**
 * Run `probes` on `host` as one command and return each one's result. Rejects only when
 * the host could not be asked (transport failure), like Host.exec.
 */
export async function runHostProbes(host: Host, probes: readonly HostProbe[], options: Pick<ExecOptions, 'timeoutMs'> = {}): Promise<Map<string, ProbeResult>> {
  const unique = uniqueProbes(probes);
  if (unique.length === 0) return new Map();
  if (unique.length === 1) {
    // One probe needs no wrapper shell: its own command is the one command.
    const only = unique[0] as HostProbe;
    return new Map([[only.key, await host.exec(only.argv, options)]]);
  }
  const nonce = newNonce();
  return splitProbeOutput(unique, nonce, await host.exec(combinedProbeArgv(unique, nonce), options));
}
