/** src/ops/tmux.ts run unchanged through SshHost gives the same results as through LocalHost. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEnnioError } from '../src/core/errors.js';
import type { Host } from '../src/host/host.js';
import { LocalHost } from '../src/host/local-host.js';
import { SshHostRegistry } from '../src/host/ssh/registry.js';
import { capture, createSession, killSession, liveness, paneStates, sendMessage, type TmuxServer } from '../src/ops/tmux.js';
import { DEMO_AGENT } from './helpers/cli.js';
import { sshdSkipReason, startSshd, type TestSshd } from './helpers/sshd.js';
import { targetFor, tmuxSocket } from './helpers/ssh-env.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping tmux-over-SSH tests: ${skip}`);

/** Poll the pane until it shows `text` (bounded; the result is what is asserted). */
async function captureUntil(host: Host, server: TmuxServer, name: string, text: string): Promise<string> {
  let last = '';
  for (let i = 0; i < 400; i++) {
    last = await capture(host, server, name, 50);
    if (last.includes(text)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`pane ${name} never showed ${JSON.stringify(text)}; last capture:\n${last}`);
}

/** The same scenario on any host; returns what it observed. */
async function scenario(host: Host, server: TmuxServer): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};
  const name = 'ops-check';
  seen.before = await liveness(host, server, name);
  await createSession(host, server, {
    name,
    cwd: '/tmp',
    env: { ENNIO_GREETING: 'héllo #{not-a-format} $(nope)' },
    command: ['sh', '-c', 'printf "%s\\n" "$ENNIO_GREETING"; while IFS= read -r l; do printf "got:%s\\n" "$l"; done'],
  });
  seen.running = await liveness(host, server, name);
  seen.greeting = (await captureUntil(host, server, name, 'héllo')).split('\n').find((l) => l.includes('héllo'));
  await sendMessage(host, server, name, "short 'msg' $(x) `y`;");
  seen.short = (await captureUntil(host, server, name, 'got:short')).split('\n').find((l) => l.startsWith('got:short'));
  await sendMessage(host, server, name, 'multi\nline ü');
  const multi = await captureUntil(host, server, name, 'got:line ü');
  // The tty echo of the pasted second line and the reply to the first can share a row.
  seen.multi = multi.split('\n').flatMap((l) => (/got:(multi|line)/.test(l) ? [l.slice(l.indexOf('got:'))] : []));
  seen.pane = (await paneStates(host, server)).get(name)?.dead;
  await killSession(host, server, name);
  seen.after = await liveness(host, server, name);
  await killSession(host, server, name); // already gone: not an error
  return seen;
}

const sha = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** What a refused send says (its code and the start of its message), or 'sent'. */
async function trySend(host: Host, server: TmuxServer, name: string, message: string): Promise<string> {
  try {
    await sendMessage(host, server, name, message);
    return 'sent';
  } catch (err) {
    if (!isEnnioError(err)) throw err;
    return `${err.code}: ${err.message.split(',')[0]!}`;
  }
}

/** Hostile input on any host: a line reader (canonical mode, echo off) and the raw demo agent. */
async function inputScenario(host: Host, server: TmuxServer, workDir: string): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};
  const reader = 'input-lines';
  await createSession(host, server, {
    name: reader,
    cwd: '/tmp',
    env: {},
    command: ['sh', '-c', 'stty -echo; echo reader ready; n=0; while IFS= read -r l; do n=$((n+1)); printf "got:%s:%s:%s\\n" "$n" "$(printf %s "$l" | wc -c)" "$(printf %s "$l" | sha256sum | cut -c1-64)"; done'],
  });
  await captureUntil(host, server, reader, 'reader ready');
  seen.nul = await trySend(host, server, reader, 'before\0after');
  seen.nulPasted = await trySend(host, server, reader, `line one\n${'x'.repeat(600)}\0`);
  seen.tooLong = await trySend(host, server, reader, 'z'.repeat(6000));
  seen.crlf = await trySend(host, server, reader, 'one\r\ntwo');
  seen.longest = await trySend(host, server, reader, 'q'.repeat(4095));
  const got = await captureUntil(host, server, reader, 'got:3:');
  seen.lines = [...got.matchAll(/got:(\d+):(\d+):(\w+)/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
  await killSession(host, server, reader);

  const agent = 'input-raw';
  await createSession(host, server, { name: agent, cwd: workDir, env: {}, command: [process.execPath, DEMO_AGENT] });
  await captureUntil(host, server, agent, 'demo-agent ready');
  const long = `${'y'.repeat(10_000)} end`;
  seen.raw = await trySend(host, server, agent, long);
  seen.rawArrived = (await captureUntil(host, server, agent, 'message #1')).includes(`10004 bytes, 1 line(s), sha256 ${sha(long)}`);
  await killSession(host, server, agent);
  return seen;
}

describe.skipIf(skip !== undefined)('tmux operations through SshHost', () => {
  let sshd: TestSshd;
  const registry = new SshHostRegistry();
  const localTmux = tmuxSocket();
  const remoteTmux = tmuxSocket();

  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    try {
      await registry.closeAll();
    } finally {
      localTmux.kill();
      remoteTmux.kill();
      await sshd?.stop();
    }
  });

  it('creates, messages, captures, checks and kills a session exactly as LocalHost does', async () => {
    const ssh = registry.get(targetFor(sshd, join(sshd.dir, 'kh')), { warn: () => undefined });
    const local = await scenario(new LocalHost(), { socket: localTmux.socket });
    const remote = await scenario(ssh, { socket: remoteTmux.socket });
    expect(local).toEqual({
      before: 'missing',
      running: 'running',
      greeting: 'héllo #{not-a-format} $(nope)',
      short: "got:short 'msg' $(x) `y`;",
      multi: ['got:multi', 'got:line ü'],
      pane: false,
      after: 'missing',
    });
    expect(remote).toEqual(local);
  });

  it('refuses NUL and lines a canonical terminal cannot hold, makes CRLF one line break, and gives raw agents 10 kB whole', async () => {
    const ssh = registry.get(targetFor(sshd, join(sshd.dir, 'kh')), { warn: () => undefined });
    const work = mkdtempSync(join(tmpdir(), 'ennio-input-'));
    try {
      const local = await inputScenario(new LocalHost(), { socket: localTmux.socket }, work);
      const remote = await inputScenario(ssh, { socket: remoteTmux.socket }, work);
      expect(local).toEqual({
        nul: 'INVALID_ARGUMENT: the message contains a NUL byte (at character 7)',
        nulPasted: 'INVALID_ARGUMENT: the message contains a NUL byte (at character 610)',
        tooLong: 'INVALID_ARGUMENT: a line of the message is 6000 bytes',
        crlf: 'sent',
        longest: 'sent',
        // Nothing of the refused messages arrived: the first line read is the CRLF message's.
        lines: [`1 3 ${sha('one')}`, `2 3 ${sha('two')}`, `3 4095 ${sha('q'.repeat(4095))}`],
        raw: 'sent',
        rawArrived: true,
      });
      expect(remote).toEqual(local);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
