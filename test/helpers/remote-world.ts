/**
 * A CLI world whose projects run "remotely": a real OpenSSH sshd on loopback, a git repo
 * and ennio's remote directory in temp dirs, and a stand-in `claude` on the remote PATH
 * (sshd's SetEnv), so every strategy can be driven end to end without a network.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createWorld, DEMO_AGENT, type World } from './cli.js';
import { startSshd, type TestSshd } from './sshd.js';

export interface RemoteWorld extends World {
  sshd: TestSshd;
  remoteDir: string;
  knownHosts: string;
  /** ennio.yaml text for a remote project using `strategy` (the demo agent unless `agent` lines say otherwise). */
  project(name: string, strategy: string, extra?: string, agent?: string[]): string;
  stop(): Promise<void>;
}

export interface RemoteWorldOptions {
  /** Variables for everything started over SSH (sshd SetEnv), given the world's directory; a PATH goes first on the remote PATH. */
  remoteEnv?: (dir: string) => Record<string, string>;
}

export async function createRemoteWorld(options: RemoteWorldOptions = {}): Promise<RemoteWorld> {
  const w = createWorld();
  const fakeBin = join(w.dir, 'remote-bin');
  mkdirSync(fakeBin);
  // Stand-in for `claude remote-control`: prints a session URL, then behaves like an agent.
  writeFileSync(join(fakeBin, 'claude'), [
    '#!/bin/sh',
    '[ "$1" = remote-control ] || { echo "stand-in claude only does remote-control" >&2; exit 2; }',
    'echo "Remote Control session ready: https://claude.ai/code/session_${ENNIO_SESSION_ID}"',
    `exec node ${DEMO_AGENT}`,
    '',
  ].join('\n'));
  chmodSync(join(fakeBin, 'claude'), 0o755);
  const { PATH: firstPath, ...remoteEnv } = options.remoteEnv?.(w.dir) ?? {};
  const vars = [`PATH=${firstPath ? `${firstPath}:` : ''}${fakeBin}:/usr/local/bin:/usr/bin:/bin`, ...Object.entries(remoteEnv).map(([k, v]) => `${k}=${v}`)];
  const sshd = await startSshd({ extra: [`SetEnv ${vars.join(' ')}`] });
  const remoteDir = join(w.dir, 'remote-ennio');
  const knownHosts = join(w.dir, 'known_hosts');
  w.makeRepo();
  return Object.assign(w, {
    sshd,
    remoteDir,
    knownHosts,
    project(name: string, strategy: string, extra = '', agent = ['    agent: custom', '    agent_config:', `      command: ${JSON.stringify(`node ${DEMO_AGENT}`)}`]) {
      return [
        `  - name: ${name}`,
        `    path: ${join(w.dir, 'repo')}`,
        ...agent,
        '    symlinks: [{ source: .env.shared, target: .env }]',
        '    post_create:',
        '      - git config user.name t && git config user.email t@t.invalid',
        '      - \'echo "remote post_create on $(hostname) for $ENNIO_SESSION_ID" > .prepared\'',
        '    ssh_config:',
        '      host: 127.0.0.1',
        `      port: ${sshd.port}`,
        '      username: root',
        `      auth: { type: key, path: ${sshd.clientKey} }`,
        `      strategy: ${strategy}`,
        '      host_key_policy: accept_new',
        `      known_hosts_path: ${knownHosts}`,
        '      use_ssh_config: false',
        `      remote_dir: ${remoteDir}`,
        extra,
      ].join('\n');
    },
    async stop() {
      w.cleanup();
      await sshd.stop();
    },
  });
}
