/** Pure input rules: branch names (checked against the real git) and what a message may be. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EnnioError } from '../src/core/errors.js';
import { BRANCH_MAX_BYTES, assertBranchName, branchNameProblem } from '../src/ops/branch-name.js';
import { CANONICAL_LINE_MAX_BYTES, exceedsCanonicalLine, normalizeMessage } from '../src/ops/message.js';
import { parseCanonical } from '../src/ops/tmux.js';

const gitAccepts = (name: string): boolean => spawnSync('git', ['check-ref-format', '--branch', name], { cwd: '/' }).status === 0;

describe('branch names', () => {
  // Within the length limit, the rules are git's own: compare with git check-ref-format.
  const names = [
    'main', 'feat/x', 'a@b', 'x/HEAD', 'foo.lock.x', 'é中/ü', 'refs/heads/x', 'a-b_c.d', 'v1.2', 'a/b-/c', `feat/$(touch x)\`y\`;q"'`,
    '-', '-x', 'HEAD', 'a b', 'a\tb', 'a\nb', 'a\x7fb', 'a~b', 'a^b', 'a:b', 'a?b', 'a*b', 'a[b', 'a\\b', 'a..b', 'a@{b', '@{-1}',
    '/a', 'a/', 'a//b', 'a.', '.a', 'a/.b', 'a.lock', 'a/b.lock/c', '.lock', 'a/./b', '',
  ];
  it.each(names)('agrees with git about %j', (name) => {
    expect(branchNameProblem(name) === undefined).toBe(gitAccepts(name));
  });

  it('refuses @ alone (git branch does) and anything over the byte limit, counting bytes', () => {
    expect(branchNameProblem('@')).toBeDefined();
    expect(branchNameProblem('a'.repeat(BRANCH_MAX_BYTES))).toBeUndefined();
    expect(branchNameProblem('a'.repeat(BRANCH_MAX_BYTES + 1))).toBe('it is 201 bytes long, more than the 200 allowed');
    expect(branchNameProblem('é'.repeat(101))).toBe('it is 202 bytes long, more than the 200 allowed');
  });

  it('says what is wrong and what is allowed, with a long name shortened', () => {
    let err: unknown;
    try {
      assertBranchName('x'.repeat(300));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EnnioError);
    expect((err as EnnioError).code).toBe('INVALID_ARGUMENT');
    expect((err as EnnioError).message).toBe(`invalid branch name "${'x'.repeat(60)}…": it is 300 bytes long, more than the 200 allowed`);
    expect((err as EnnioError).hint).toContain("no part starting with '.' or ending with '.lock'");
  });
});

describe('messages', () => {
  it('makes each CRLF and lone CR one line break', () => {
    expect(normalizeMessage('a\r\nb\rc\n\r\nd')).toBe('a\nb\nc\n\nd');
    expect(normalizeMessage('\r\n\r\n')).toBe('\n\n');
  });

  it('refuses NUL with INVALID_ARGUMENT, naming where it is', () => {
    expect(() => normalizeMessage('ab\0c')).toThrow(/NUL byte \(at character 3\).*nothing was sent/);
    try {
      normalizeMessage('\0');
    } catch (e) {
      expect((e as EnnioError).code).toBe('INVALID_ARGUMENT');
    }
  });

  it('finds lines longer than a canonical-mode terminal holds, in bytes', () => {
    expect(exceedsCanonicalLine('x'.repeat(CANONICAL_LINE_MAX_BYTES))).toBe(false);
    expect(exceedsCanonicalLine('x'.repeat(CANONICAL_LINE_MAX_BYTES + 1))).toBe(true);
    expect(exceedsCanonicalLine(`${'x'.repeat(4000)}\n${'y'.repeat(4000)}`)).toBe(false);
    expect(exceedsCanonicalLine('€'.repeat(1366))).toBe(true); // 4098 bytes
  });

  it('reads canonical mode from stty -a output', () => {
    expect(parseCanonical('speed 38400 baud; rows 50;\nisig icanon iexten echo echoe')).toBe(true);
    expect(parseCanonical('speed 38400 baud;\n-isig -icanon -iexten -echo')).toBe(false);
    expect(parseCanonical('nothing here')).toBeUndefined();
  });
});
