/**
 * One SshHost (so one ssh2 connection) per user@host:port per process. The CLI and the
 * daemon use the shared default registry; tests create their own.
 */
import { createHash } from 'node:crypto';
import type { SshConfig } from '../../config/schema.js';
import { resolveSshTarget, type ResolveOptions, type ResolvedSshTarget } from './resolve.js';
import { SshHost, type SshHostOptions } from './ssh-host.js';
import { currentEnv } from '../../core/request-env.js';

/**
 * Connections are shared only between projects that would make the same connection:
 * same endpoint AND the same security settings. A `strict` project must never ride on a
 * connection whose host key another project accepted under `accept_all`, nor one made
 * with other credentials or through other bastions.
 */
export function sshHostKey(t: ResolvedSshTarget): string {
  const security = JSON.stringify([
    t.hostKeyPolicy, t.knownHostsPath, t.extraKnownHostsPaths, t.auth ?? null, t.identityFiles, t.proxyJump, t.forwardAgent, t.hostKeyAlias ?? null,
  ]);
  return `${t.username}@${t.host}:${t.port}#${createHash('sha256').update(security).digest('hex').slice(0, 16)}`;
}

export class SshHostRegistry {
  private readonly hosts = new Map<string, SshHost>();
  private readonly resolved = new Map<string, Promise<ResolvedSshTarget>>();

  /**
   * The host for this target, created on first request. Later requests for the same
   * user@host:port share it (and the options of the first request). A host that is
   * neither connected nor connecting is rebuilt when the target changed (a config
   * edited after a failed connect takes effect).
   */
  get(target: ResolvedSshTarget, options: SshHostOptions = {}): SshHost {
    const key = sshHostKey(target);
    const existing = this.hosts.get(key);
    if (existing) {
      const stale = !existing.connected && !existing.connection.connecting && JSON.stringify(existing.target) !== JSON.stringify(target);
      if (!stale) return existing;
      this.hosts.delete(key);
      void existing.close();
    }
    const host = new SshHost(target, options, (closed) => {
      if (this.hosts.get(key) === closed) this.hosts.delete(key);
    });
    this.hosts.set(key, host);
    return host;
  }

  /**
   * Resolve a project's ssh_config and return its shared host. The `ssh -G` result is
   * cached per config for the life of the registry: it costs a process spawn, which the
   * hot path (send/logs/liveness, ≤ 10 ms) cannot afford on every call.
   */
  async forConfig(config: SshConfig, options: ResolveOptions & SshHostOptions = {}): Promise<SshHost> {
    const key = JSON.stringify([config, options.sshConfigFile ?? (options.env ?? currentEnv())['ENNIO_SSH_CONFIG'] ?? '']);
    let resolved = this.resolved.get(key);
    if (!resolved) {
      resolved = resolveSshTarget(config, options);
      this.resolved.set(key, resolved);
      // A failed resolution (bad ssh config) is retried next time, after the user fixed it.
      resolved.catch(() => this.resolved.delete(key));
    }
    return this.get(await resolved, options);
  }

  get size(): number {
    return this.hosts.size;
  }

  /** Each shared connection, its state and use (for `ennio server status`). */
  summary(): Array<{ host: string; state: 'connected' | 'connecting' | 'disconnected'; commands: number; connects: number }> {
    return [...this.hosts.values()].map((h) => ({
      host: h.label,
      state: h.connected ? 'connected' : h.connection.connecting ? 'connecting' : 'disconnected',
      commands: h.commandCount,
      connects: h.connection.connects,
    }));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((h) => h.close()));
    this.hosts.clear();
    this.resolved.clear();
  }
}

export const defaultSshRegistry = new SshHostRegistry();

export function getSshHost(target: ResolvedSshTarget, options?: SshHostOptions): SshHost {
  return defaultSshRegistry.get(target, options);
}

export function sshHostForConfig(config: SshConfig, options?: ResolveOptions & SshHostOptions): Promise<SshHost> {
  return defaultSshRegistry.forConfig(config, options);
}

export function closeAllSshHosts(): Promise<void> {
  return defaultSshRegistry.closeAll();
}
