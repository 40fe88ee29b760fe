/**
 * strategy: tmate. The agent runs in an ordinary tmux session (so send, logs and liveness
 * are the proven tmux operations), and a tmate server on its own socket shares that
 * session by attaching to it. tmate 2.4 does not process a detached pane until its
 * server answers, so it cannot host the agent itself; a nested attach can be shared.
 */
import { posix } from 'node:path';
import type { z } from 'zod';
import type { tmateConfig } from '../config/schema.js';
import { EnnioError } from '../core/errors.js';
import type { Host } from '../host/host.js';
import { expandHome, joinPath, mkdirp, writeFileOn } from '../ops/fs.js';
import { shellJoin } from '../ops/shell-quote.js';
import { exactTarget, tmuxBase, type TmuxServer } from '../ops/tmux.js';
import { TmuxRuntime } from './tmux-runtime.js';
import type { LaunchSpec, RuntimeHandle } from './types.js';

export type TmateSettings = z.infer<typeof tmateConfig>;

/** tmate's own config: where its server is (self-hosted servers), nothing else. */
export function tmateConfigText(settings: TmateSettings | undefined): string {
  const lines: string[] = [];
  const q = (v: string): string => `"${v.replace(/(["\\$])/g, '\\$1')}"`;
  if (settings?.server_host) lines.push(`set -g tmate-server-host ${q(settings.server_host)}`);
  if (settings?.server_port) lines.push(`set -g tmate-server-port ${settings.server_port}`);
  if (settings?.server_rsa_fingerprint) lines.push(`set -g tmate-server-rsa-fingerprint ${q(settings.server_rsa_fingerprint)}`);
  if (settings?.server_ed25519_fingerprint) lines.push(`set -g tmate-server-ed25519-fingerprint ${q(settings.server_ed25519_fingerprint)}`);
  return lines.join('\n') + (lines.length ? '\n' : '');
}

const URL_FORMAT = '#{tmate_ssh}\t#{tmate_ssh_ro}\t#{tmate_web}\t#{tmate_web_ro}';

export class TmateRuntime extends TmuxRuntime {
  override readonly name = 'tmate';

  constructor(
    host: Host,
    server: TmuxServer,
    wrapAttach: (argv: string[]) => Promise<string[]>,
    private readonly settings: TmateSettings | undefined,
    /** Directory on the host for tmate sockets and configs (may start with ~). */
    private readonly tmateDir: string,
  ) {
    super(host, server, wrapAttach);
  }

  /** Where the tmate server sharing session `name` has its socket (its config sits beside it). */
  private async socketPathFor(name: string): Promise<string> {
    return joinPath(await expandHome(this.host, this.tmateDir), `${name}.sock`);
  }

  override async handleFor(sessionId: string): Promise<RuntimeHandle | undefined> {
    const handle = await super.handleFor(sessionId);
    return handle && { ...handle, data: { ...handle.data, tmateSocket: await this.socketPathFor(sessionId) } };
  }

  override async create(spec: LaunchSpec): Promise<RuntimeHandle> {
    const handle = await super.create(spec);
    try {
      const socketPath = await this.socketPathFor(spec.name);
      const dir = posix.dirname(socketPath);
      await mkdirp(this.host, dir);
      const configPath = joinPath(dir, `${spec.name}.conf`);
      await writeFileOn(this.host, configPath, tmateConfigText(this.settings));
      // tmate is a tmux 2.x fork: its pane command is one shell string, and TMUX must be unset to nest.
      const attach = shellJoin(['env', '-u', 'TMUX', ...tmuxBase(this.server), 'attach-session', '-t', exactTarget(spec.name)]);
      const res = await this.host.exec(['tmate', '-f', configPath, '-S', socketPath, 'new-session', '-d', '-s', spec.name, '-x', '200', '-y', '50', attach]);
      if (res.code === 127) throw new EnnioError('TOOL_MISSING', `tmate is not installed on ${this.host.label}`, { hint: 'install it there (Debian: apt-get install tmate) or use strategy: tmux' });
      if (res.code !== 0) throw new EnnioError('COMMAND_FAILED', `tmate failed to start on ${this.host.label}: ${res.stderr.trim()}`);
      return { ...handle, runtimeName: this.name, data: { ...handle.data, tmateSocket: socketPath } };
    } catch (err) {
      await super.destroy(handle);
      throw err;
    }
  }

  override async destroy(handle: RuntimeHandle): Promise<void> {
    const socket = handle.data['tmateSocket'];
    if (socket) {
      // A tmate server that is already gone is fine; the agent's tmux session is what matters.
      await this.host.exec(['tmate', '-S', socket, 'kill-server']);
      await this.host.exec(['rm', '-f', '--', socket, socket.replace(/\.sock$/, '.conf')]);
    }
    await super.destroy(handle);
  }

  /** Share URLs once tmate's server answers; "unavailable" after url_timeout, never a hang. */
  async info(handle: RuntimeHandle): Promise<Record<string, string>> {
    const socket = handle.data['tmateSocket'];
    if (!socket) return {};
    const waitMs = this.settings?.url_timeout ?? 5000;
    const ready = await this.host.exec(['tmate', '-S', socket, 'wait', 'tmate-ready'], { timeoutMs: waitMs });
    if (ready.code !== 0) {
      const why = ready.code === 124 ? `no tmate server answered within ${Math.round(waitMs / 1000)}s` : (ready.stderr.trim() || `tmate exit ${ready.code}`);
      return { tmate_urls: `unavailable (${why})`, tmate_socket: socket };
    }
    const res = await this.host.exec(['tmate', '-S', socket, 'display', '-p', '-t', handle.id, URL_FORMAT]);
    const [ssh, sshRo, web, webRo] = res.stdout.trim().split('\t');
    const info: Record<string, string> = { tmate_socket: socket };
    if (ssh) info['tmate_ssh'] = ssh;
    if (sshRo) info['tmate_ssh_ro'] = sshRo;
    if (web) info['tmate_web'] = web;
    if (webRo) info['tmate_web_ro'] = webRo;
    if (!ssh && !web) info['tmate_urls'] = 'unavailable (tmate reported no URLs)';
    return info;
  }
}

