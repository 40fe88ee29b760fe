/**
 * More real things for SSH tests: an ssh-agent, a throwaway local user for password
 * auth, and a ResolvedSshTarget for a test sshd. Each start has its stop.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sshConfig, type SshConfig } from '../../src/config/schema.js';
import { buildTarget, type ResolvedSshTarget } from '../../src/host/ssh/resolve.js';
import { stopProcess, type TestSshd } from './sshd.js';

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

/** A real ssh-agent holding `keys` (paths of unencrypted private keys). */
export async function startAgent(keys: string[]): Promise<TestAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'ennio-agent-'));
  const socket = join(dir, 'agent.sock');
  const proc = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  const stop = async (): Promise<void> => {
    await stopProcess(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 10));
    if (!existsSync(socket)) throw new Error('ssh-agent did not create its socket');
    for (const key of keys) execFileSync('ssh-add', ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: socket }, stdio: 'ignore' });
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
      try {
        execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
      } catch {
        // no server on that socket (never started or already gone)
      }
    },
  };
}
