/** src/ops/tmux.ts run unchanged through SshHost gives the same results as through LocalHost. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Host } from '../src/host/host.js';
import { LocalHost } from '../src/host/local-host.js';
import { SshHostRegistry } from '../src/host/ssh/registry.js';
import { capture, createSession, killSession, liveness, paneStates, sendMessage, type TmuxServer } from '../src/ops/tmux.js';
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
});
