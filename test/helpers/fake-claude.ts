/** The stand-in `claude` (test/fixtures/fake-claude.mjs) on a PATH of its own. */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export const FAKE_CLAUDE = join(ROOT, 'test/fixtures/fake-claude.mjs');

/** A bin directory under `dir` whose `claude` runs the stand-in; put it first on PATH. */
export function fakeClaudeBin(dir: string): string {
  const bin = join(dir, 'fake-bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'claude'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(FAKE_CLAUDE)} "$@"\n`);
  chmodSync(join(bin, 'claude'), 0o755);
  return bin;
}

export interface FakeClaudeStart {
  argv: string[];
  session_id: string;
  cwd: string;
}

/** Every start of the stand-in, from its FAKE_CLAUDE_LOG. */
export function fakeClaudeStarts(log: string): FakeClaudeStart[] {
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return [];
  }
  return text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as FakeClaudeStart);
}
