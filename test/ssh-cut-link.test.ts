/**
 * Cut links, through the CLI: a relay between ennio and the test sshd (helpers/link-proxy)
 * stops forwarding bytes without closing anything, like a pulled cable. Every CLI call is
 * asynchronous here: the relay runs in this process and must keep forwarding meanwhile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, waitFor, type RunResult } from './helpers/cli.js';
import { startLinkProxy, type LinkProxy } from './helpers/link-proxy.js';
import { createRemoteWorld, type RemoteWorld } from './helpers/remote-world.js';
import { keygen, readPublicKey, sshdSkipReason } from './helpers/sshd.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping cut-link tests: ${skip}`);

// An "agent" that writes a numbered line five times a second, so new output is easy to tell.
const TICKER = 'i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.2; done';

let w: RemoteWorld;
let proxy: LinkProxy;
let sessionId = '';
/** connection_timeout 60 s: cuts in these tests end long before it. */
let patient = '';
/** connection_timeout 4 s: for a cut that outlasts it. */
let impatient = '';
const started = new Set<ChildProcess>();

function config(file: string, options: { timeout: string; knownHosts?: string; policy?: string }): string {
  const path = join(w.dir, file);
  writeFileSync(path, [
    'projects:',
    '  - name: cut',
    `    path: ${join(w.dir, 'repo')}`,
    '    agent: custom',
    `    agent_config: { command: ${JSON.stringify(TICKER)} }`,
    '    ssh_config:',
    '      host: 127.0.0.1',
    `      port: ${proxy.port}`,
    '      username: root',
    `      auth: { type: key, path: ${w.sshd.clientKey} }`,
    '      strategy: tmux',
    `      host_key_policy: ${options.policy ?? 'accept_new'}`,
    `      known_hosts_path: ${options.knownHosts ?? w.knownHosts}`,
    '      use_ssh_config: false',
    `      remote_dir: ${w.remoteDir}`,
    `      connection_timeout: ${options.timeout}`,
    '',
  ].join('\n'));
  return path;
}

interface Running {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  done: Promise<RunResult>;
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const proc = spawn(process.execPath, [CLI, ...args], { cwd: w.dir, env: { ...w.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(proc);
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const done = new Promise<RunResult>((resolve) => {
    proc.on('close', (code) => {
      started.delete(proc);
      resolve({ code: code ?? -1, stdout: out, stderr: err });
    });
  });
  return { proc, stdout: () => out, stderr: () => err, done };
}

const run = (args: string[], env?: NodeJS.ProcessEnv): Promise<RunResult> => start(args, env).done;

beforeAll(async () => {
  if (skip) return;
  w = await createRemoteWorld();
  proxy = await startLinkProxy(w.sshd.port);
  patient = config('patient.yaml', { timeout: '60s' });
  impatient = config('impatient.yaml', { timeout: '4s' });
  const res = await run(['--config', patient, 'spawn', 'cut', '--json']);
  expect(res.code).toBe(0);
  sessionId = (JSON.parse(res.stdout) as { id: string }).id;
  await waitFor(() => w.tmux('capture-pane', '-p', '-t', sessionId).stdout.includes('tick-3'), 'the ticker to run');
});

afterAll(async () => {
  if (skip) return;
  for (const p of started) p.kill('SIGKILL');
  await proxy?.close();
  await w?.stop();
});

describe.skipIf(skip)('a cut link', () => {
  it('send during a cut longer than connection_timeout fails, saying it got no answer for connection_timeout', async () => {
    proxy.cut();
    try {
      const res = await run(['--config', impatient, 'send', sessionId, 'hello']);
      expect(res.code).toBe(5);
      expect(res.stdout).toBe('');
      expect(res.stderr).toMatch(/no answer from 127\.0\.0\.1 for \d+ s \(connection_timeout 4 s\)/);
      expect(res.stderr).toContain('hint:');
      expect(res.stderr).not.toContain('timed out after');
      // Nothing was typed: the message never left.
      expect(w.tmux('capture-pane', '-p', '-t', sessionId).stdout).not.toContain('hello');
    } finally {
      proxy.restore();
    }
  });

  it('says on stderr what it waits for during a short cut (when forced on), never with --json', async () => {
    proxy.cut();
    let plain: Running | undefined;
    let json: Running | undefined;
    try {
      plain = start(['--config', patient, 'status'], { ENNIO_PROGRESS: '1' });
      json = start(['--config', patient, 'status', '--json'], { ENNIO_PROGRESS: '1' });
      // Both wait behind the cut; the plain one says so, and keeps counting.
      await waitFor(() => /connecting to 127\.0\.0\.1 \([3-9] s\)…/.test(plain?.stderr() ?? ''), 'progress on stderr', 40_000);
    } finally {
      proxy.restore();
    }
    const [p, j] = await Promise.all([plain.done, json.done]);
    expect(p.code).toBe(0);
    expect(p.stderr).toMatch(/connecting to 127\.0\.0\.1 \(1 s\)…\n/);
    expect(p.stdout).toContain(sessionId);
    expect(p.stdout).toMatch(/running\s/);
    expect(j.code).toBe(0);
    expect(j.stderr).toBe('');
    const listed = JSON.parse(j.stdout) as Array<{ id: string; status: string; unreachable?: string }>;
    expect(listed.find((s) => s.id === sessionId)).toMatchObject({ status: 'running' });
    expect(listed.find((s) => s.id === sessionId)?.unreachable).toBeUndefined();
  });

  it('logs -f notices a link that stays silent after a cut, reconnects and prints what came since', async () => {
    const follow = start(['--config', patient, 'logs', '-f', sessionId], { ENNIO_PROGRESS: '1' });
    try {
      await waitFor(() => follow.stdout().includes('tick-'), 'logs -f to print');
      proxy.cut();
      // Noticed while cut, long before any keepalive would.
      await waitFor(() => follow.stderr().includes('no answer from 127.0.0.1 for'), 'logs -f to say the link is silent', 40_000);
      // The old connection stays silent for good, as TCP does for a minute after a long cut.
      proxy.restore({ stale: 'silent' });
      const latest = Math.max(...[...w.tmux('capture-pane', '-p', '-t', sessionId).stdout.matchAll(/tick-(\d+)/g)].map((m) => Number(m[1])));
      await waitFor(() => follow.stdout().includes(`tick-${latest}\n`), `logs -f to print tick-${latest}`, 60_000);
      expect(follow.stderr()).toMatch(/logs: connection to 127\.0\.0\.1 stopped answering .*; retrying/);
      expect(follow.stderr()).toContain('logs: connection is back; resuming');
    } finally {
      proxy.restore();
      follow.proc.kill('SIGINT');
      await follow.done;
    }
  });

  it('status names a changed host key as the reason a host is unreachable', async () => {
    const other = join(w.dir, 'other_host_key');
    keygen(other, 'ed25519');
    const knownHosts = join(w.dir, 'known_hosts_changed');
    writeFileSync(knownHosts, `[127.0.0.1]:${proxy.port} ${readPublicKey(`${other}.pub`).publicLine}\n`);
    const changed = config('changed.yaml', { timeout: '60s', knownHosts, policy: 'strict' });

    const json = await run(['--config', changed, 'status', '--json']);
    expect(json.code).toBe(0);
    const seen = (JSON.parse(json.stdout) as Array<{ id: string; status: string; unreachable_reason?: string; unreachable_code?: string; unreachable?: string }>).find((s) => s.id === sessionId);
    expect(seen).toMatchObject({ status: 'running', unreachable_reason: 'host key changed', unreachable_code: 'HOST_KEY_CHANGED' });
    expect(seen?.unreachable).toContain('has CHANGED');

    const table = await run(['--config', changed, 'status']);
    expect(table.stdout).toContain('running (unreachable: host key changed)');
    const info = await run(['--config', changed, 'session', 'info', sessionId]);
    expect(info.stdout).toContain('running (unreachable: host key changed)');
    expect(info.stdout).toMatch(/unreachable\s+the ssh-ed25519 host key of .* has CHANGED/);
  });
});
