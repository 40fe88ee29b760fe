/**
 * Routes a project to its Backend: no ssh_config → this machine; ssh_config → the
 * strategy it names, over one shared SSH connection per host. Backends are cached
 * for the life of the process so every operation reuses the same connection.
 */
import { join } from 'node:path';
import type { EnnioConfig, ProjectConfig } from '../config/schema.js';
import { LocalHost } from '../host/local-host.js';
import { HostWorkspaces } from '../strategies/host-workspaces.js';
import { ProcessRuntime } from '../strategies/process-runtime.js';
import { TmuxRuntime } from '../strategies/tmux-runtime.js';
import type { Backend } from '../strategies/types.js';
import { createRemoteBackend } from '../strategies/remote.js';

export class Backends {
  private readonly cache = new Map<string, Promise<Backend>>();
  private readonly local = new LocalHost();

  constructor(
    private readonly config: EnnioConfig,
    private readonly ennioHome: string,
  ) {}

  /** The backend for a project; `runtime` overrides the configured local runtime (restore keeps the original). */
  forProject(project: ProjectConfig, runtime?: string): Promise<Backend> {
    const runtimeName = runtime ?? project.runtime ?? this.config.defaults.runtime;
    const key = `${project.name}\0${runtimeName}`;
    let backend = this.cache.get(key);
    if (!backend) {
      backend = project.ssh_config
        ? createRemoteBackend(project, project.ssh_config, this.ennioHome)
        : Promise.resolve(this.localBackend(runtimeName));
      // A failed connect must not be cached: the next operation tries again.
      backend.catch(() => this.cache.delete(key));
      this.cache.set(key, backend);
    }
    return backend;
  }

  private localBackend(runtimeName: string): Backend {
    const runtime =
      runtimeName === 'process' ? new ProcessRuntime(join(this.ennioHome, 'logs')) : new TmuxRuntime(this.local);
    return {
      kind: 'local',
      host: this.local,
      workspaces: new HostWorkspaces(this.local, join(this.ennioHome, 'workspaces')),
      runtime,
      dataDir: this.ennioHome,
    };
  }

  get localHost(): LocalHost {
    return this.local;
  }

  /** Close SSH connections and tunnels so the process can exit. */
  async close(): Promise<void> {
    const { closeAllRemote } = await import('../strategies/remote.js');
    await closeAllRemote();
  }
}
