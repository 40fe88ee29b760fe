/**
 * More real things for SSH tests: an ssh-agent, a throwaway local user for password
 * auth, and a ResolvedSshTarget for a test sshd. Each start has its stop.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshConfig, type SshConfig } from '../../src/config/schema.js';
import { buildTarget, type ResolvedSshTarget } from '../../src/host/ssh/resolve.js';
import { stopProcess, type TestSshd } from './sshd.js';
import { killTmuxServer } from './tmux-server.js';

type SshConfigInput = Partial<Omit<SshConfig, 'auth'>> & { auth?: SshConfig['auth'] };

/** A target for the test sshd as root with its client key, known_hosts in `knownHosts`. */
export function targetFor(sshd: TestSshd, knownHosts: string, overrides: SshConfigInput = {}): ResolvedSshTarget {
  const cfg = sshConfig.parse({
    host: '127.0.0.1',
    port: sshd.port,
    username: 'root',
    auth: { type: 'key', path: sshd.clientKey },
    known_hosts_path: knownHosts,
    use_ssh_config: false,
    connection_timeout: '15s',
    ...overrides,
  });
  return buildTarget(cfg, undefined);
}

export interface TestAgent {
  socket: string;
  stop(): Promise<void>;
}

/** How long a busy machine may take to start an ssh-agent (a bound, not an expectation). */
const AGENT_START_LIMIT_MS = 30_000;

/** `ssh-add -l` against the agent: 0 = keys listed, 1 = it answers and holds none, 2 = no agent answers. */
function listAgent(socket: string): { status: number | null; stdout: string } {
  const r = spawnSync('ssh-add', ['-l'], { env: { ...process.env, SSH_AUTH_SOCK: socket }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout };
}

/**
 * A real ssh-agent holding `keys` (paths of unencrypted private keys), returned once it
 * answers and lists exactly those keys. Its socket file appears at bind(), before the
 * agent accepts connections: readiness is an `ssh-add -l` that gets an answer.
 */
export async function startAgent(keys: string[]): Promise<TestAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'ennio-agent-'));
  const socket = join(dir, 'agent.sock');
  const proc = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  const stop = async (): Promise<void> => {
    await stopProcess(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + AGENT_START_LIMIT_MS;
    for (let listed = listAgent(socket); listed.status !== 0 && listed.status !== 1; listed = listAgent(socket)) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`ssh-agent exited (${proc.exitCode ?? proc.signalCode}) before answering`);
      if (Date.now() > deadline) throw new Error(`ssh-agent did not answer on ${socket} within ${AGENT_START_LIMIT_MS} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const key of keys) execFileSync('ssh-add', ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
    const held = listAgent(socket);
    const count = held.status === 0 ? held.stdout.split('\n').filter(Boolean).length : 0;
    if (count !== keys.length) throw new Error(`ssh-agent holds ${count} keys, expected ${keys.length}`);
    return { socket, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface TestUser {
  name: string;
  password: string;
  remove(): void;
}

/** A local user with a random password (root only); remove() deletes it and its home. */
export function createUser(): TestUser {
  const name = `ennio_t${randomBytes(3).toString('hex')}`;
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  execFileSync('useradd', ['-m', '-s', '/bin/sh', name], { stdio: 'ignore' });
  try {
    execFileSync('chpasswd', [], { input: `${name}:${password}\n`, stdio: ['pipe', 'ignore', 'ignore'] });
  } catch (err) {
    execFileSync('userdel', ['-r', name], { stdio: 'ignore' });
    throw err;
  }
  return {
    name,
    password,
    remove: () => {
      // The user's sshd session may still be exiting; userdel refuses a logged-in user.
      try {
        execFileSync('pkill', ['-KILL', '-u', name], { stdio: 'ignore' });
      } catch {
        // exit 1 = no process of that user: nothing to kill
      }
      execFileSync('userdel', ['-r', '-f', name], { stdio: 'ignore' });
    },
  };
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A unique tmux -L socket name and a function that kills that server. */
export function tmuxSocket(): { socket: string; kill(): void } {
  const socket = `ennio-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  return {
    socket,
    kill: () => {
      killTmuxServer(socket); // no server on that socket (never started, already gone): fine
    },
  };
}
