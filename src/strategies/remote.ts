/**
 * Remote projects: one shared SshHost per host (src/host/ssh/registry.ts) and the
 * runtime the strategy names. tmux, tmate and remote_control run src/ops through the
 * SshHost; node sends the same requests to the ennio-node daemon.
 */
import type { ProjectConfig, SshConfig } from '../config/schema.js';
import { attachArgv, attachOptions } from '../host/ssh/attach-argv.js';
import { closeAllSshHosts, sshHostForConfig, usedSshTargets } from '../host/ssh/registry.js';
import type { SshHost } from '../host/ssh/ssh-host.js';
import { HostWorkspaces } from './host-workspaces.js';
import { RemoteControlRuntime } from './remote-control-runtime.js';
import { TmateRuntime } from './tmate-runtime.js';
import { defaultTmuxServer, TmuxRuntime } from './tmux-runtime.js';
import type { Backend, Runtime } from './types.js';
import { runRemoteClosers } from './remote-closers.js';

function runtimeFor(host: SshHost, project: ProjectConfig, ssh: SshConfig, ennioHome: string): Runtime {
  const server = defaultTmuxServer();
  const wrapAttach = (argv: string[]): Promise<string[]> => Promise.resolve(attachArgv(host.target, argv, attachOptions(host.target, ennioHome)));
  switch (ssh.strategy) {
    case 'tmate':
      return new TmateRuntime(host, server, wrapAttach, ssh.tmate, `${ssh.remote_dir}/tmate`);
    case 'remote_control':
      return new RemoteControlRuntime(host, server, wrapAttach, project.agent_config?.args ?? []);
    default:
      return new TmuxRuntime(host, server, wrapAttach);
  }
}

export async function createRemoteBackend(project: ProjectConfig, ssh: SshConfig, ennioHome: string): Promise<Backend> {
  // ssh -G answers are kept in $ENNIO_HOME between commands (src/host/ssh/ssh-g-cache.ts).
  const host = await sshHostForConfig(ssh, { cacheDir: ennioHome });
  if (ssh.strategy === 'node') {
    const { createNodeBackend } = await import('./node.js');
    return createNodeBackend(project, ssh, host, ennioHome);
  }
  return {
    kind: `ssh:${ssh.strategy}`,
    host,
    workspaces: new HostWorkspaces(host, `${ssh.remote_dir}/workspaces`),
    runtime: runtimeFor(host, project, ssh, ennioHome),
    dataDir: ssh.remote_dir,
  };
}

export { usedSshTargets };

export async function closeAllRemote(): Promise<void> {
  await runRemoteClosers(); // node tunnels first: they ride on the SSH connections
  await closeAllSshHosts();
}
