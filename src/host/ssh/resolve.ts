/**
 * Turn a project's `ssh_config` into the concrete connection target. `host` may be an
 * alias from ~/.ssh/config, so it is resolved by OpenSSH itself (`ssh -G`, which
 * understands Include, Match, ProxyJump and tokens — a JS parser of ssh_config would
 * not). Values written in ennio.yaml win over what ssh -G reports.
 */
import { execFile } from 'node:child_process';
import { homedir, hostname as localHostname, userInfo } from 'node:os';
import type { AuthConfig, SshConfig } from '../../config/schema.js';
import { EnnioError } from '../../core/errors.js';
import { currentEnv } from '../../core/request-env.js';
import { lookupSshG, storeSshG } from './ssh-g-cache.js';

export type HostKeyPolicy = 'strict' | 'accept_new' | 'accept_all';

export interface Hop {
  host: string;
  port: number;
  username: string;
  identityFiles: string[];
  /** Name used for known_hosts lookups instead of host (OpenSSH HostKeyAlias). */
  hostKeyAlias?: string;
}

export interface ResolvedSshTarget extends Hop {
  /** What the project wrote as `host` (maybe an ssh_config alias). */
  alias: string;
  /** Bastions in order: connect to the first, tunnel to the next, … then to the target. */
  proxyJump: Hop[];
  /** known_hosts file that is read and that accept_new appends to. */
  knownHostsPath: string;
  /** Further files that are only read (known_hosts2, the global file). */
  extraKnownHostsPaths: string[];
  forwardAgent: boolean;
  /** Write accepted keys hashed (OpenSSH HashKnownHosts; Debian's ssh_config sets it). */
  hashKnownHosts: boolean;
  auth?: AuthConfig;
  hostKeyPolicy: HostKeyPolicy;
  connectionTimeoutMs: number;
  keepaliveIntervalMs: number;
}

export interface ResolveOptions {
  /** `ssh -F file` instead of ~/.ssh/config (default: env ENNIO_SSH_CONFIG). */
  sshConfigFile?: string;
  /** Keep `ssh -G` answers here between processes (ssh-g-cache.ts; $ENNIO_HOME), or not at all. */
  cacheDir?: string;
  /** The ssh program (default `ssh`). */
  sshProgram?: string;
  env?: NodeJS.ProcessEnv;
}

/** `ssh -G` output: lowercase keys, every value of repeated keys, in order. */
export type SshGOutput = Map<string, string[]>;

export function parseSshG(text: string): SshGOutput {
  const out: SshGOutput = new Map();
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m || !m[1] || m[2] === undefined) continue;
    const key = m[1].toLowerCase();
    out.set(key, [...(out.get(key) ?? []), m[2]]);
  }
  return out;
}

export interface JumpSpec {
  host: string;
  port?: number;
  username?: string;
}

/** OpenSSH ProxyJump: `[user@]host[:port]` or `ssh://[user@]host[:port]`, comma separated; `none` = no jump. */
export function parseProxyJump(value: string | undefined): JumpSpec[] {
  if (value === undefined || value.trim() === '' || value.trim().toLowerCase() === 'none') return [];
  return value.split(',').map((raw) => {
    let s = raw.trim().replace(/^ssh:\/\//, '').replace(/\/$/, '');
    let username: string | undefined;
    const at = s.lastIndexOf('@');
    if (at >= 0) {
      username = s.slice(0, at);
      s = s.slice(at + 1);
    }
    let host = s;
    let portText: string | undefined;
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
    if (bracketed) {
      host = bracketed[1] ?? '';
      portText = bracketed[2];
    } else if ((s.match(/:/g) ?? []).length === 1) {
      [host = '', portText] = s.split(':');
    }
    const port = portText === undefined ? undefined : Number(portText);
    if (!host || (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) || username === '') {
      throw new EnnioError('CONFIG_INVALID', `invalid proxy_jump entry ${JSON.stringify(raw.trim())}`, {
        hint: 'write bastions as [user@]host[:port], separated by commas',
      });
    }
    return { host, ...(port === undefined ? {} : { port }), ...(username === undefined ? {} : { username }) };
  });
}

/** Expand `~` and the OpenSSH tokens used in IdentityFile / UserKnownHostsFile. */
export function expandSshPath(path: string, ctx: { host: string; port: number; username: string; alias: string }): string {
  const home = homedir();
  const local = localUser();
  const tokens: Record<string, string> = {
    '%': '%', d: home, u: local, h: ctx.host, r: ctx.username, p: String(ctx.port), n: ctx.alias,
    i: String(process.getuid?.() ?? ''), l: localHostname(),
  };
  const withTokens = path.replace(/%(.)/g, (all, t: string) => tokens[t] ?? all);
  if (withTokens === '~') return home;
  return withTokens.startsWith('~/') ? `${home}${withTokens.slice(1)}` : withTokens;
}

export function localUser(): string {
  return process.env.USER ?? userInfo().username;
}

const first = (g: SshGOutput | undefined, key: string): string | undefined => g?.get(key)?.[0];

/** Pure: combine ennio.yaml values, `ssh -G` output (or none) and defaults. */
export function buildTarget(cfg: SshConfig, g: SshGOutput | undefined, hopOutputs: Array<SshGOutput | undefined> = []): ResolvedSshTarget {
  const host = first(g, 'hostname') ?? cfg.host;
  const port = cfg.port ?? numberOr(first(g, 'port'), 22);
  const username = cfg.username ?? first(g, 'user') ?? localUser();
  const ctx = { host, port, username, alias: cfg.host };
  const jumps = parseProxyJump(cfg.proxy_jump ?? first(g, 'proxyjump'));
  const proxyJump = jumps.map((j, i) => buildHop(j, hopOutputs[i]));
  const knownFiles = (first(g, 'userknownhostsfile') ?? '~/.ssh/known_hosts').split(/\s+/).filter(Boolean);
  const globalFiles = (first(g, 'globalknownhostsfile') ?? '').split(/\s+/).filter(Boolean);
  const knownHostsPath = expandSshPath(cfg.known_hosts_path ?? knownFiles[0] ?? '~/.ssh/known_hosts', ctx);
  // An explicit known_hosts_path is the whole truth (tests and users rely on isolation).
  const extraKnownHostsPaths = cfg.known_hosts_path ? [] : [...knownFiles.slice(1), ...globalFiles].map((p) => expandSshPath(p, ctx));
  const alias = first(g, 'hostkeyalias');
  return {
    alias: cfg.host,
    host,
    port,
    username,
    identityFiles: (g?.get('identityfile') ?? []).map((p) => expandSshPath(p, ctx)),
    ...(alias && alias !== 'none' ? { hostKeyAlias: alias } : {}),
    proxyJump,
    knownHostsPath,
    extraKnownHostsPaths,
    forwardAgent: cfg.forward_agent || first(g, 'forwardagent') === 'yes',
    hashKnownHosts: first(g, 'hashknownhosts') === 'yes',
    ...(cfg.auth ? { auth: cfg.auth } : {}),
    hostKeyPolicy: cfg.host_key_policy,
    connectionTimeoutMs: cfg.connection_timeout,
    keepaliveIntervalMs: cfg.keepalive_interval,
  };
}

function buildHop(spec: JumpSpec, g: SshGOutput | undefined): Hop {
  const host = first(g, 'hostname') ?? spec.host;
  const port = spec.port ?? numberOr(first(g, 'port'), 22);
  const username = spec.username ?? first(g, 'user') ?? localUser();
  const ctx = { host, port, username, alias: spec.host };
  const alias = first(g, 'hostkeyalias');
  return {
    host,
    port,
    username,
    identityFiles: (g?.get('identityfile') ?? []).map((p) => expandSshPath(p, ctx)),
    ...(alias && alias !== 'none' ? { hostKeyAlias: alias } : {}),
  };
}

function numberOr(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return text !== undefined && Number.isInteger(n) && n > 0 ? n : fallback;
}

/**
 * Run `ssh -G <alias>`; undefined when ssh is not installed (callers fall back to
 * defaults). A config that ssh rejects is an error, not a silent fallback.
 */
export function runSshG(alias: string, options: ResolveOptions = {}): Promise<SshGOutput | undefined> {
  const env = options.env ?? currentEnv();
  const file = options.sshConfigFile ?? env.ENNIO_SSH_CONFIG;
  // `--` is not accepted by ssh -G's getopt before the destination on all versions; reject
  // option-looking aliases instead so an alias can never become an ssh option.
  if (alias.startsWith('-')) throw new EnnioError('CONFIG_INVALID', `invalid ssh host ${JSON.stringify(alias)}: it must not start with '-'`);
  const query = { alias, file, program: options.sshProgram ?? 'ssh', env };
  const cached = options.cacheDir === undefined ? undefined : lookupSshG(options.cacheDir, query);
  if (cached) return Promise.resolve(cached);
  // -v: ssh names every config file it reads, which is what a cached answer depends on.
  const args = [...(file ? ['-F', file] : []), ...(options.cacheDir === undefined ? [] : ['-v']), '-G', alias];
  return new Promise((resolve, reject) => {
    execFile(query.program, args, { env, timeout: 10_000 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return resolve(undefined);
      if (err) {
        const said = String(stderr).split('\n').filter((l) => !/^(debug\d: |OpenSSH_)/.test(l)).join('\n').trim();
        return reject(
          new EnnioError('CONFIG_INVALID', `ssh -G ${alias} failed: ${said || err.message}`, {
            hint: file ? `check the ssh config file ${file}` : 'check ~/.ssh/config (or set use_ssh_config: false)',
          }),
        );
      }
      const output = parseSshG(String(stdout));
      if (options.cacheDir !== undefined) storeSshG(options.cacheDir, query, output, String(stderr));
      resolve(output);
    });
  });
}

/** Resolve a project's ssh_config (ssh -G for the target and every bastion). */
export async function resolveSshTarget(cfg: SshConfig, options: ResolveOptions = {}): Promise<ResolvedSshTarget> {
  if (!cfg.use_ssh_config) return buildTarget(cfg, undefined);
  const g = await runSshG(cfg.host, options);
  if (!g) return buildTarget(cfg, undefined);
  const jumps = parseProxyJump(cfg.proxy_jump ?? first(g, 'proxyjump'));
  const hopOutputs = await Promise.all(jumps.map((j) => runSshG(j.host, options)));
  return buildTarget(cfg, g, hopOutputs);
}
