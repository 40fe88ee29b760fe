/**
 * One SshHost (so one ssh2 connection) per user@host:port per process. The CLI and the
 * daemon use the shared default registry; tests create their own.
 */
import { createHash } from 'node:crypto';
import type { SshConfig } from '../../config/schema.js';
import { resolveSshTarget, type ResolveOptions, type ResolvedSshTarget } from './resolve.js';
import { SshHost, type SshHostOptions } from './ssh-host.js';
import { currentEnv } from '../../core/request-env.js';
import { dropDialed } from './pre-dial.js';

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

/** A connection started on a guess (warm-hint.ts), not yet claimed by a command. */
interface Speculation {
  /** From now on warnings go to `warn`, and those held back so far (an accepted host key…) too. */
  claim(warn: (message: string) => void): void;
}

const stderrWarn = (message: string): void => void process.stderr.write(`${message}\n`);

export class SshHostRegistry {
  private readonly hosts = new Map<string, SshHost>();
  private readonly resolved = new Map<string, Promise<ResolvedSshTarget>>();
  private readonly speculative = new Map<SshHost, Speculation>();

  /**
   * The host for this target, created on first request. Later requests for the same
   * user@host:port share it (and the options of the first request). A host that is
   * neither connected nor connecting is rebuilt when the target changed (a config
   * edited after a failed connect takes effect).
   */
  get(target: ResolvedSshTarget, options: SshHostOptions = {}): SshHost {
    const key = sshHostKey(target);
    const existing = this.hosts.get(key);
    const guess = existing && this.speculative.get(existing);
    if (existing && guess) {
      this.speculative.delete(existing);
      // A prewarmed connection is used only for exactly the target it was made for.
      if (JSON.stringify(existing.target) === JSON.stringify(target)) {
        guess.claim(options.warn ?? stderrWarn);
        return existing;
      }
      this.hosts.delete(key);
      void existing.close();
    } else if (existing) {
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

  /**
   * Start connecting to `target` (and open a first shell) on a guess, before any command
   * asked for it: the next get() of exactly this target takes it over; otherwise it is
   * closed with the rest. Nothing is said while it is unclaimed (its failures and
   * warnings belong to whichever command uses it).
   */
  prewarm(target: ResolvedSshTarget): void {
    const key = sshHostKey(target);
    if (this.hosts.has(key)) return;
    const held: string[] = [];
    let sink: ((message: string) => void) | undefined;
    const host = new SshHost(target, { warn: (m) => (sink ? sink(m) : void held.push(m)) }, (closed) => {
      if (this.hosts.get(key) === closed) this.hosts.delete(key);
      this.speculative.delete(closed);
    });
    this.hosts.set(key, host);
    this.speculative.set(host, {
      claim: (warn) => {
        sink = warn;
        for (const m of held.splice(0)) warn(m);
      },
    });
    host.warm();
  }

  /** Targets of the connections commands used in this process (what warm-hint.ts records for the next one). */
  usedTargets(): ResolvedSshTarget[] {
    return [...this.hosts.values()].filter((h) => !this.speculative.has(h) && h.connection.connects > 0).map((h) => h.target);
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
    this.speculative.clear();
    dropDialed();
  }
}

export const defaultSshRegistry = new SshHostRegistry();

export function getSshHost(target: ResolvedSshTarget, options?: SshHostOptions): SshHost {
  return defaultSshRegistry.get(target, options);
}

export function sshHostForConfig(config: SshConfig, options?: ResolveOptions & SshHostOptions): Promise<SshHost> {
  return defaultSshRegistry.forConfig(config, options);
}

/** Targets the commands of this process connected to (SshHostRegistry.usedTargets). */
export function usedSshTargets(): ResolvedSshTarget[] {
  return defaultSshRegistry.usedTargets();
}

/** Start connecting to these targets on a guess (see SshHostRegistry.prewarm). */
export function prewarmSshHosts(targets: readonly ResolvedSshTarget[]): void {
  for (const t of targets) defaultSshRegistry.prewarm(t);
}

export function closeAllSshHosts(): Promise<void> {
  return defaultSshRegistry.closeAll();
}
