/**
 * argv of the OpenSSH command that attaches a terminal to a remote tmux session
 * (`ennio attach`): the user's own `ssh` owns the terminal, we only say where to go.
 * The connection settings mirror what SshHost resolved, so both reach the same host with
 * the same host-key policy.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { shellQuote } from '../../ops/shell-quote.js';
import type { HostKeyPolicy, Hop, ResolvedSshTarget } from './resolve.js';

const STRICT: Record<HostKeyPolicy, string> = { strict: 'yes', accept_new: 'accept-new', accept_all: 'no' };

/**
 * A value for ssh_config or `-o`: always double-quoted (whitespace, `'` and `#` then stay
 * literal), `"` and `\` escaped, and `%` doubled because ssh expands %-tokens in paths.
 */
function optionValue(value: string, percentExpanded = true): string {
  const escaped = value.replace(/(["\\])/g, '\\$1');
  return `"${percentExpanded ? escaped.replace(/%/g, '%%') : escaped}"`;
}

/** A path given to `-i`: ssh %-expands identity files, so `%` is doubled. */
const identityArg = (path: string): string => path.replace(/^~(?=\/|$)/, homedir()).replace(/%/g, '%%');

export interface AttachArgvOptions {
  /** The ssh program (default `ssh`). */
  ssh?: string;
  /**
   * Where the caller wrote attachSshConfig(target) — required with ProxyJump: `-i` and
   * `-o` reach only the destination, never the `-J` hosts, so every hop gets a Host block.
   */
  configPath?: string;
}

type AttachTarget = Pick<ResolvedSshTarget, 'host' | 'port' | 'username' | 'proxyJump' | 'knownHostsPath' | 'hostKeyPolicy' | 'auth'> & { hostKeyAlias?: string; identityFiles?: string[] };

const hopName = (i: number): string => `ennio-hop-${i}`;
const TARGET_NAME = 'ennio-target';

/** An ssh_config with one Host block per bastion and the target, each with the same key policy. */
export function attachSshConfig(target: AttachTarget): string {
  const key = target.auth?.type === 'key' ? target.auth.path.replace(/^~(?=\/|$)/, homedir()) : undefined;
  const block = (name: string, hop: Pick<Hop, 'host' | 'port' | 'username'> & { identityFiles?: string[]; hostKeyAlias?: string }, jump?: string): string[] => [
    `Host ${name}`,
    `  HostName ${optionValue(hop.host)}`,
    `  Port ${hop.port}`,
    `  User ${optionValue(hop.username, false)}`,
    ...(key ? [key] : (hop.identityFiles ?? [])).map((f) => `  IdentityFile ${optionValue(f)}`),
    `  UserKnownHostsFile ${optionValue(target.knownHostsPath)}`,
    `  StrictHostKeyChecking ${STRICT[target.hostKeyPolicy]}`,
    ...(hop.hostKeyAlias ? [`  HostKeyAlias ${optionValue(hop.hostKeyAlias)}`] : []),
    ...(jump ? [`  ProxyJump ${jump}`] : []),
  ];
  const lines = target.proxyJump.flatMap((hop, i) => block(hopName(i), hop, i > 0 ? hopName(i - 1) : undefined));
  lines.push(...block(TARGET_NAME, target, target.proxyJump.length ? hopName(target.proxyJump.length - 1) : undefined));
  return `# written by ennio for \`ennio attach\`\n${lines.join('\n')}\n`;
}

export function attachArgv(target: AttachTarget, remoteArgv: readonly string[], options: AttachArgvOptions = {}): string[] {
  if (target.proxyJump.length > 0) {
    if (!options.configPath) throw new Error('attachArgv: ProxyJump needs options.configPath (see attachSshConfig)');
    return [options.ssh ?? 'ssh', '-F', options.configPath, '-t', '--', TARGET_NAME, ...remoteArgv.map(shellQuote)];
  }
  const argv = [options.ssh ?? 'ssh', '-t', '-p', String(target.port), '-l', target.username];
  // The key ennio itself uses: the configured one, else the IdentityFiles `ssh -G` resolved
  // (ssh is pointed at the HostName, so the alias's own Host block would not apply).
  const keys = target.auth?.type === 'key' ? [target.auth.path] : (target.identityFiles ?? []);
  for (const key of keys) argv.push('-i', identityArg(key));
  argv.push('-o', `UserKnownHostsFile=${optionValue(target.knownHostsPath)}`);
  argv.push('-o', `StrictHostKeyChecking=${STRICT[target.hostKeyPolicy]}`);
  if (target.hostKeyAlias) argv.push('-o', `HostKeyAlias=${optionValue(target.hostKeyAlias)}`);
  // ssh joins the words after the host with spaces for the remote shell: quote each one.
  argv.push('--', target.host, ...remoteArgv.map(shellQuote));
  return argv;
}

/** Options for attachArgv: with bastions, the hop config is written 0600 under ENNIO_HOME/ssh. */
export function attachOptions(target: AttachTarget, ennioHome: string): AttachArgvOptions {
  if (target.proxyJump.length === 0) return {};
  const text = attachSshConfig(target);
  const dir = join(ennioHome, 'ssh');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const configPath = join(dir, `attach-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.conf`);
  writeFileSync(configPath, text, { mode: 0o600 });
  return { configPath };
}
