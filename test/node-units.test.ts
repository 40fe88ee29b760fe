/** Pure parts of ennio-node, tested without starting anything. */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bearerMatches } from '../src/node/daemon/auth.js';
import { grpcPercentEncode } from '../src/node/daemon/grpc-message.js';
import { IdleTracker } from '../src/node/daemon/idle.js';
import { parseOptions, UsageError } from '../src/node/daemon/options.js';
import { isStrictlyInside } from '../src/node/daemon/paths.js';
import { readToken } from '../src/node/daemon/token.js';

describe('parseOptions', () => {
  it('has the spec defaults', () => {
    expect(parseOptions([])).toEqual({ port: 9100, idleTimeoutSecs: 3600, help: false, version: false, tmuxControl: true });
    expect(parseOptions(['--no-tmux-control']).tmuxControl).toBe(false);
  });
  it('reads every flag, with = or a separate value', () => {
    expect(
      parseOptions(['--port=9200', '--idle-timeout', '5', '--workspace-root', '/w', '--auth-token-file', '/t', '--tmux-socket', 's.1', '--log-file', '/l']),
    ).toMatchObject({ port: 9200, idleTimeoutSecs: 5, workspaceRoot: '/w', authTokenFile: '/t', tmuxSocket: 's.1', logFile: '/l' });
  });
  it('rejects unknown flags, positionals, bad numbers and conflicting token sources', () => {
    for (const argv of [['--bogus'], ['extra'], ['--port', '1.5'], ['--port', '70000'], ['--idle-timeout', 'x'], ['--auth-token', 'a', '--auth-token-file', 'b'], ['--port']]) {
      expect(() => parseOptions(argv), argv.join(' ')).toThrow(UsageError);
    }
  });
});

describe('readToken', () => {
  it('lets a command-line flag win over ENNIO_NODE_AUTH_TOKEN, and always scrubs the variable', () => {
    const env: NodeJS.ProcessEnv = { ENNIO_NODE_AUTH_TOKEN: 'from-env' };
    expect(readToken(parseOptions(['--auth-token', 'from-flag']), env)).toEqual({ token: 'from-flag', source: 'argv' });
    expect(env['ENNIO_NODE_AUTH_TOKEN']).toBeUndefined();
    expect(readToken(parseOptions([]), { ENNIO_NODE_AUTH_TOKEN: 'from-env' })).toEqual({ token: 'from-env', source: 'env' });
    expect(readToken(parseOptions([]), {})).toEqual({ token: undefined, source: 'none' });
  });
});

describe('bearerMatches', () => {
  const expected = createHash('sha256').update('s3cret').digest();
  it('accepts only "Bearer <token>"', () => {
    expect(bearerMatches('Bearer s3cret', expected)).toBe(true);
    expect(bearerMatches('bearer s3cret', expected)).toBe(true);
    for (const h of [null, '', 's3cret', 'Bearer', 'Bearer s3cre', 'Bearer s3cret2', 'Basic s3cret', 'Bearer s3cret x']) {
      expect(bearerMatches(h, expected), String(h)).toBe(false);
    }
  });
});

describe('isStrictlyInside', () => {
  it('is true only strictly below the root', () => {
    expect(isStrictlyInside('/r', '/r/a')).toBe(true);
    expect(isStrictlyInside('/r', '/r/a/b')).toBe(true);
    expect(isStrictlyInside('/r', '/r')).toBe(false);
    expect(isStrictlyInside('/r', '/rr/a')).toBe(false);
    expect(isStrictlyInside('/r', '/')).toBe(false);
    expect(isStrictlyInside('/r', '/r/..a')).toBe(true); // a name starting with dots, not '..'
  });
});

describe('grpcPercentEncode', () => {
  it('encodes only what the gRPC spec asks for', () => {
    expect(grpcPercentEncode('refusing "/etc": 100% é\n')).toBe('refusing "/etc": 100%25 %C3%A9%0A');
  });
});

describe('IdleTracker', () => {
  afterEach(() => vi.useRealTimers());

  it('fires after the timeout, counts calls in flight as activity, and resets on call end', () => {
    vi.useFakeTimers();
    const onIdle = vi.fn();
    const t = new IdleTracker(2000, onIdle);
    vi.advanceTimersByTime(1500);
    t.begin(); // a long call starts
    vi.advanceTimersByTime(10_000);
    expect(onIdle).not.toHaveBeenCalled();
    t.end(); // …and ends: the idle clock starts again from here
    vi.advanceTimersByTime(1999);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it('never fires with timeout 0 or after stop()', () => {
    vi.useFakeTimers();
    const onIdle = vi.fn();
    new IdleTracker(0, onIdle);
    const t = new IdleTracker(100, onIdle);
    t.stop();
    vi.advanceTimersByTime(1000);
    expect(onIdle).not.toHaveBeenCalled();
  });
});
