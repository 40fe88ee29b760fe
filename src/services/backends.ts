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
import type { ResolvedSshTarget } from '../host/ssh/resolve.js';
import { warmingStarted } from '../host/ssh/warm-hint.js';

type RemoteModule = typeof import('../strategies/remote.js');

export class Backends {
  private readonly cache = new Map<string, Promise<Backend>>();
  private readonly local = new LocalHost();
  /** The remote strategies, loaded with the first remote project (ssh2 costs a local-only command ~80 ms). */
  private remote: Promise<RemoteModule> | undefined;

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
      const ssh = project.ssh_config;
      backend = ssh
        ? (this.remote ??= import('../strategies/remote.js')).then((m) => m.createRemoteBackend(project, ssh, this.ennioHome))
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

  /** SSH targets this process connected to (none without a remote project). */
  async usedSshTargets(): Promise<ResolvedSshTarget[]> {
    return this.remote ? (await this.remote).usedSshTargets() : [];
  }

  /** Close SSH connections and tunnels so the process can exit. */
  async close(): Promise<void> {
    // Connections prewarmed on a guess (src/host/ssh/warm-hint.ts) are open even when no
    // project here was used; without either, there is nothing to close and ssh2 stays unloaded.
    const remote = this.remote ?? (warmingStarted() ? import('../strategies/remote.js') : undefined);
    if (remote) await (await remote).closeAllRemote();
  }
}
