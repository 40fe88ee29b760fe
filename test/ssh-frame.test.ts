import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildFrame, commandLine, FrameParser, newNonce } from '../src/host/ssh/shell-frame.js';
import { isEnnioError } from '../src/core/errors.js';

describe('shell frames', () => {
  it('quotes every word and runs argv in an exec subshell', () => {
    expect(commandLine({ argv: ['printf', '%s', "a'b"], cwd: '/x y', env: { A: '1 2' } })).toBe(
      `( cd -- '/x y' && exec env 'A=1 2' printf %s 'a'\\''b' )`,
    );
    expect(commandLine({ argv: ['sleep', '9'], timeoutSeconds: 1.5 })).toBe('( exec timeout -s KILL 1.5 sleep 9 )');
  });

  it('rejects bad env names and empty argv', () => {
    expect(() => commandLine({ argv: ['x'], env: { 'A;B': '1' } })).toThrow(/invalid environment variable name/);
    try {
      commandLine({ argv: [] });
    } catch (e) {
      expect(isEnnioError(e, 'INVALID_ARGUMENT')).toBe(true);
    }
  });

  it('round-trips output, status, stderr and stdin through a real sh, byte by byte', () => {
    const hostile = "$(touch /tmp/never) `id` ; ' \" \n ü \\";
    const n1 = newNonce();
    const n2 = newNonce();
    const frames = [
      buildFrame({ argv: ['sh', '-c', 'printf %s "$1"; printf E >&2; exit 7', 'sh', hostile] }, n1),
      buildFrame({ argv: ['cat'], input: Buffer.from([0, 1, 2, 255, 10]) }, n2),
    ];
    // The same `sh` reading frames from stdin that a pooled channel runs remotely.
    const run = spawnSync('sh', [], { input: frames.join('') });
    const parsers = [new FrameParser(n1), new FrameParser(n2)];
    const results = [];
    let out = run.stdout;
    let err = run.stderr;
    for (const [i, nonce] of [n1, n2].entries()) {
      const p = parsers[i] as FrameParser;
      // Byte by byte, so markers arrive split across chunks.
      const outEnd = out.indexOf('\n', out.indexOf(`${nonce}:`)) + 1;
      const errEnd = err.indexOf(`${nonce}\n`) + nonce.length + 1;
      for (const b of out.subarray(0, outEnd)) p.push('out', Buffer.from([b]));
      expect(p.result()).toBeUndefined(); // stderr marker still missing
      for (const b of err.subarray(0, errEnd)) p.push('err', Buffer.from([b]));
      results.push(p.result());
      out = out.subarray(outEnd);
      err = err.subarray(errEnd);
    }
    expect(results[0]?.code).toBe(7);
    expect(results[0]?.stdout.toString('utf8')).toBe(hostile);
    expect(results[0]?.stderr.toString('utf8')).toBe('E');
    expect(results[1]?.code).toBe(0);
    expect([...(results[1]?.stdout ?? [])]).toEqual([0, 1, 2, 255, 10]);
    expect(existsSync('/tmp/never')).toBe(false);
  });
});
