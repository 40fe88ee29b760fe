/** Every remote strategy driven through the CLI against a real sshd: spawn, send, logs, info, kill, restore. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, sha256, waitFor } from './helpers/cli.js';
import { createRemoteWorld, type RemoteWorld } from './helpers/remote-world.js';
import { freePort, sshdSkipReason } from './helpers/sshd.js';

const skip = sshdSkipReason();
if (skip) console.log(`skipping remote strategy tests: ${skip}`);

let w: RemoteWorld;
let nodePort = 0;
interface Session { id: string; status: string; branch: string; workspace_path: string; host: string; backend: string }

beforeAll(async () => {
  if (skip) return;
  w = await createRemoteWorld();
  nodePort = await freePort();
  w.writeConfig(['projects:', w.project('rtmux', 'tmux'), w.project('rtmate', 'tmate', '      tmate: { url_timeout: 2s }'), w.project('rrc', 'remote_control'),
    w.project('rnode', 'node', `      node_config: { port: ${nodePort}, idle_timeout: 600 }`), ''].join('\n'));
});
afterAll(async () => {
  if (skip) return;
  // Stop the daemon even when a test failed midway (the sshd may already be down: then
  // the daemon's own idle timeout ends it).
  w.run(['node', 'disconnect', 'rnode', '--shutdown']);
  // The "remote" is this machine: make sure no daemon of this run outlives it.
  spawnSync('pkill', ['-f', `ennio-node.cjs --port ${nodePort} `]);
  await w.stop();
});

function logs(id: string): string {
  const res = w.run(['logs', id, '-n', '500']);
  if (res.code !== 0) throw new Error(`ennio logs ${id} failed: ${res.stderr}`);
  return res.stdout;
}
const statusOf = (id: string): string | undefined =>
  (JSON.parse(w.run(['status', '--json']).stdout) as Session[]).find((s) => s.id === id)?.status;

function spawnOk(project: string, args: string[] = []): Session {
  const res = w.run(['spawn', project, '--json', ...args]);
  expect(res.stderr).not.toContain('error');
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout) as Session;
}

/** The same input rules as locally, through the CLI on a remote session (own test: remote commands are slow under load). */
async function hostileInput(project: string): Promise<void> {
  const s = spawnOk(project);
  await waitFor(() => logs(s.id).includes('demo-agent ready'), 'the agent to start');
  const answered = (): number => (logs(s.id).match(/message #\d+:/g) ?? []).length;
  const before = answered();
  const nul = w.run(['send', s.id], { input: 'cut\0here' });
  expect(nul.code).toBe(2);
  expect(nul.stderr).toContain('the message contains a NUL byte (at character 4), which a terminal cannot carry; nothing was sent');
  for (const [words, arrives] of [[['--help'], '--help'], [['crlf\r\nfrom', 'afar'], 'crlf\nfrom afar'], [[`${'w'.repeat(10_000)}`], 'w'.repeat(10_000)]] as const) {
    expect(w.run(['send', s.id, ...words]).code).toBe(0);
    await waitFor(() => logs(s.id).includes(`sha256 ${sha256(arrives)}`), `the answer to ${arrives.slice(0, 20)}`);
  }
  expect(answered()).toBe(before + 3); // the refused message typed nothing, not even an Enter
  expect(w.run(['session', 'kill', s.id]).code).toBe(0);
}

const INPUT_TEST = 'refuses NUL, makes CRLF one line break, and sends option-looking words and a 10 kB line whole';

async function driveAndKill(s: Session, project: string): Promise<void> {
  // The workspace, symlink and post_create were made on the remote host.
  expect(s.workspace_path.startsWith(join(w.remoteDir, 'workspaces', project))).toBe(true);
  expect(git(s.workspace_path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(s.branch);
  expect(readlinkSync(join(s.workspace_path, '.env'))).toBe(join(w.dir, 'repo', '.env.shared'));
  expect(readFileSync(join(s.workspace_path, '.prepared'), 'utf8')).toContain(`remote post_create on`);
  await waitFor(() => logs(s.id).includes('demo-agent ready'), 'the agent to start');
  const message = `multi-line from afar\n$(touch ${join(w.dir, 'PWN')}) \`id\` ; é中;`;
  expect(w.run(['send', s.id, message]).code).toBe(0);
  await waitFor(() => logs(s.id).includes(sha256(message)), 'the answer');
  expect(existsSync(join(w.dir, 'PWN'))).toBe(false);
  expect(statusOf(s.id)).toBe('running');
  expect(w.run(['session', 'kill', s.id]).code).toBe(0);
  expect(existsSync(s.workspace_path)).toBe(false);
  expect(statusOf(s.id)).toBe('killed');
  expect(w.run(['session', 'restore', s.id]).code).toBe(0);
  await waitFor(() => logs(s.id).includes('demo-agent ready'), 'the restored agent');
  expect(statusOf(s.id)).toBe('running');
  expect(w.run(['session', 'kill', s.id]).code).toBe(0);
}

describe.skipIf(skip)('strategy tmux', () => {
  it('spawn, send, logs, status, kill, restore on the remote host', async () => {
    const s = spawnOk('rtmux', ['--prompt', 'remote prompt "quoted"']);
    expect(s.host).toBe(`root@127.0.0.1:${w.sshd.port}`);
    expect(s.backend).toBe('ssh:tmux');
    await waitFor(() => logs(s.id).includes(sha256('remote prompt "quoted"')), 'the prompt');
    await driveAndKill(s, 'rtmux');
  });

  it(INPUT_TEST, () => hostileInput('rtmux'));

  it('hostile branch names arrive verbatim and never execute', () => {
    const branch = 'r/$(touch${IFS}PWN3)`touch${IFS}PWN4`;q"\'é';
    const s = spawnOk('rtmux', ['--branch', branch]);
    expect(git(s.workspace_path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(branch);
    expect(existsSync(join(s.workspace_path, 'PWN3'))).toBe(false);
    expect(existsSync(join(s.workspace_path, 'PWN4'))).toBe(false);
    expect(w.run(['session', 'kill', s.id]).code).toBe(0);
  });

  it('attach builds an ssh -t command to the remote tmux session', () => {
    const s = spawnOk('rtmux');
    const res = w.run(['attach', s.id]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(`ssh -t -p ${w.sshd.port} -l root -i ${w.sshd.clientKey}`);
    expect(res.stderr).toContain(`tmux -u -L ${w.socket} attach-session -t =${s.id}:`);
    expect(w.run(['session', 'kill', s.id]).code).toBe(0);
  });

  it('a changed host key is refused and nothing runs', () => {
    const bad = join(w.dir, 'bad-known-hosts.yaml');
    const text = readFileSync(join(w.dir, 'ennio.yaml'), 'utf8');
    // Pin another key for this host: the real one must now be refused.
    const other = `[127.0.0.1]:${w.sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n`;
    writeFileSync(join(w.dir, 'pinned'), other);
    writeFileSync(bad, text.replaceAll(`known_hosts_path: ${w.knownHosts}`, `known_hosts_path: ${join(w.dir, 'pinned')}`));
    const res = w.run(['-c', bad, 'spawn', 'rtmux']);
    expect(res.code).toBe(5);
    expect(res.stderr).toContain('SHA256:');
    expect(res.stderr).toContain('pinned:1');
  });
});

describe.skipIf(skip)('strategy tmate', () => {
  it('runs the agent, reports share URLs as unavailable without a tmate server, and drives it', async () => {
    const s = spawnOk('rtmate');
    expect(s.backend).toBe('ssh:tmate');
    const info = JSON.parse(w.run(['session', 'info', s.id, '--json']).stdout) as { runtime_info: Record<string, string> };
    expect(info.runtime_info['tmate_urls']).toMatch(/^unavailable/);
    expect(existsSync(info.runtime_info['tmate_socket']!)).toBe(true);
    // What tmate shares is the agent's session: its pane holds a tmux client attached to it.
    await waitFor(() => w.tmux('list-clients', '-t', `=${s.id}`).stdout.includes(s.id), 'tmate to attach to the session');
    await driveAndKill(s, 'rtmate');
    expect(existsSync(info.runtime_info['tmate_socket']!)).toBe(false);
  });
});

describe.skipIf(skip)('strategy remote_control', () => {
  it('runs claude remote-control in tmux, shows its URL, and drives it', async () => {
    const s = spawnOk('rrc', ['--prompt', 'hello remote control']);
    expect(s.backend).toBe('ssh:remote_control');
    const info = JSON.parse(w.run(['session', 'info', s.id, '--json']).stdout) as { runtime_info: Record<string, string> };
    expect(info.runtime_info['remote_control_url']).toBe(`https://claude.ai/code/session_${s.id}`);
    await waitFor(() => logs(s.id).includes(sha256('hello remote control')), 'the typed prompt');
    await driveAndKill(s, 'rrc');
  });
});

describe.skipIf(skip)('strategy node', () => {
  it(INPUT_TEST, () => hostileInput('rnode'));

  it('deploys ennio-node, then spawn, send, logs, kill, restore go through it', async () => {
    const s = spawnOk('rnode', ['--prompt', 'through the daemon']);
    expect(s.backend).toBe('ssh:node');
    await waitFor(() => logs(s.id).includes(sha256('through the daemon')), 'the typed prompt');
    await driveAndKill(s, 'rnode');
    const list = JSON.parse(w.run(['node', 'list', '--json']).stdout) as Array<{ project: string }>;
    expect(list.map((n) => n.project)).toEqual(['rnode']);
    const status = w.run(['node', 'status', 'rnode', '--json']);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('"healthy": true');
    const down = w.run(['node', 'disconnect', 'rnode', '--shutdown']);
    expect(down.code).toBe(0);
    // The next command re-deploys the daemon transparently.
    const again = spawnOk('rnode');
    await waitFor(() => logs(again.id).includes('demo-agent ready'), 'the agent after re-deploy');
    expect(w.run(['session', 'kill', again.id]).code).toBe(0);
    expect(w.run(['node', 'disconnect', 'rnode', '--shutdown']).code).toBe(0);
  });
});

describe.skipIf(skip)('doctor', () => {
  it('connects to every remote project and finds its strategy\'s tools', () => {
    const res = w.run(['doctor', '--json']);
    const report = JSON.parse(res.stdout) as { ok: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> };
    for (const p of ['rtmux', 'rtmate', 'rrc', 'rnode']) {
      const check = report.checks.find((c) => c.name === `remote ${p}`);
      expect(check?.ok, check?.detail).toBe(true);
    }
    expect(report.checks.find((c) => c.name === 'remote rrc')?.detail).toContain('claude');
    expect(res.code).toBe(0);
  });
});

describe.skipIf(skip)('an unreachable host', () => {
  it('is reported, and changes no session record (a dead connection is not a dead session)', async () => {
    const s = spawnOk('rtmux');
    await w.sshd.stop();
    type Shown = Session & { unreachable?: string; unreachable_reason?: string };
    const shown = (): Shown | undefined => {
      const res = w.run(['status', '--json']);
      expect(res.code).toBe(0);
      return (JSON.parse(res.stdout) as Shown[]).find((x) => x.id === s.id);
    };
    // In-process, the host is checked now. An orchestrator answers from its latest sweep (the
    // age status allows), so a host that went down a moment ago shows by the next sweep.
    const seen = await waitFor(() => {
      const row = shown();
      expect(row?.status).toBe('running'); // never recorded as dead on the way
      return row?.unreachable ? row : undefined;
    }, 'the host to be reported unreachable');
    expect(seen.status).toBe('running');
    // (stop() also removed the client key, so the reason is the key, not the network.)
    expect(seen?.unreachable_reason).toBeTruthy();
    expect(w.run(['status']).stdout).toContain(`running (unreachable: ${seen?.unreachable_reason})`);
    const send = w.run(['send', s.id, 'hello?']);
    expect(send.code).toBe(5);
    // The agent itself never noticed: its tmux session (on this same machine) is alive.
    expect(w.tmux('has-session', '-t', `=${s.id}`).code).toBe(0);
    // doctor names the unreachable host and how to fix it, without failing the local checks.
    const doctor = JSON.parse(w.run(['doctor', '--json']).stdout) as { checks: Array<{ name: string; ok: boolean; fix?: string }> };
    const remote = doctor.checks.find((c) => c.name === 'remote rtmux');
    expect(remote?.ok).toBe(false);
    expect(remote?.fix).toBeTruthy();
  });
});

