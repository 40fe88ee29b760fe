/**
 * argv of the OpenSSH command that attaches a terminal to a remote tmux session
 * (`ennio attach`): the user's own `ssh` owns the terminal, we only say where to go.
 * The connection settings mirror what SshHost resolved, so both reach the same host with
 * the same host-key policy.
 */
import { homedir } from 'node:os';
import { shellQuote } from '../../ops/shell-quote.js';
import type { HostKeyPolicy, Hop, ResolvedSshTarget } from './resolve.js';

const STRICT: Record<HostKeyPolicy, string> = { strict: 'yes', accept_new: 'accept-new', accept_all: 'no' };

/** ssh_config values are split on whitespace unless double-quoted. */
function optionValue(value: string): string {
  return /[\s"]/.test(value) ? `"${value.replace(/(["\\])/g, '\\$1')}"` : value;
}

function jumpSpec(h: Hop): string {
  const host = h.host.includes(':') ? `[${h.host}]` : h.host;
  return `${h.username}@${host}:${h.port}`;
}

export interface AttachArgvOptions {
  /** The ssh program (default `ssh`). */
  ssh?: string;
}

export function attachArgv(
  target: Pick<ResolvedSshTarget, 'host' | 'port' | 'username' | 'proxyJump' | 'knownHostsPath' | 'hostKeyPolicy' | 'auth'> & { hostKeyAlias?: string },
  remoteArgv: readonly string[],
  options: AttachArgvOptions = {},
): string[] {
  const argv = [options.ssh ?? 'ssh', '-t', '-p', String(target.port), '-l', target.username];
  if (target.auth?.type === 'key') argv.push('-i', target.auth.path.replace(/^~(?=\/|$)/, homedir()));
  if (target.proxyJump.length > 0) argv.push('-J', target.proxyJump.map(jumpSpec).join(','));
  argv.push('-o', `UserKnownHostsFile=${optionValue(target.knownHostsPath)}`);
  argv.push('-o', `StrictHostKeyChecking=${STRICT[target.hostKeyPolicy]}`);
  if (target.hostKeyAlias) argv.push('-o', `HostKeyAlias=${optionValue(target.hostKeyAlias)}`);
  // ssh joins the words after the host with spaces for the remote shell: quote each one.
  argv.push('--', target.host, ...remoteArgv.map(shellQuote));
  return argv;
}
