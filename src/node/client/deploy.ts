/**
 * Putting ennio-node on a remote host and starting it, over the SshHost (every step is
 * one pooled-shell round trip; the bundle upload streams through the same shell):
 *
 *   probe   → home, node version, setsid, sha256 of our copy, the remote token file
 *   upload  → only when our copy is missing or differs: to a temp name, verified with
 *             sha256sum on the remote, renamed into ~/.ennio/node/<sha>/ennio-node.cjs
 *   start   → detached (setsid/nohup), token through a 0600 file written from stdin
 *
 * With node_config.ennio_binary_path the configured daemon is started instead when it
 * exists there, with only the spec's interface (token in ENNIO_NODE_AUTH_TOKEN, output
 * redirected by the shell); when it does not exist, our bundle is uploaded instead (the
 * caller warns). The deploy lock (LOCK/UNLOCK) keeps two orchestrators from doing any
 * of this at once; `listenerOwner` tells whose process listens on the daemon port.
 */
import { posix } from 'node:path';
import type { Duplex } from 'node:stream';
import { EnnioError, isEnnioError } from '../../core/errors.js';
import { execChecked, type Host } from '../../host/host.js';
import type { LocalBundle } from './bundle.js';
import { LISTENER, LOCK, LOG_TAIL, PID_ALIVE, PID_KILL, PROBE, START, UNLOCK, VERIFY, parseKeyValues } from './remote-scripts.js';

/** What deploy needs from the SSH layer (SshHost provides it). */
export interface TunnelHost extends Host {
  forwardOut(host: string, port: number): Promise<Duplex>;
  uploadFile(data: string | Buffer, remotePath: string, mode?: number): Promise<void>;
}

export interface DeployTarget {
  host: TunnelHost;
  /** Daemon port on the remote's 127.0.0.1. */
  port: number;
  idleTimeoutSecs: number;
  /** Passed as --workspace-root (the daemon defaults to ~/.ennio/workspaces). */
  workspaceRoot?: string;
  /** node_config.ennio_binary_path. */
  binaryPath?: string;
  /** Remote state directory (bundle copies, token, logs, pid files). */
  remoteDir: string;
  /** --tmux-socket for the daemon (tests isolate their tmux server with it). */
  tmuxSocket?: string;
  bundle: () => LocalBundle;
}

export interface RemoteProbe {
  home: string;
  dir: string;
  nodeVersion: string | undefined;
  /** sha256 of the bundle copy already on the remote, if any (undefined too when we have no bundle). */
  copySha: string | undefined;
  /** Whether we had a local bundle to look for (not needed with ennio_binary_path). */
  haveBundle: boolean;
  /** The configured binary, expanded, when it exists on the remote. */
  customBinary: string | undefined;
  token: string | undefined;
}

const EXEC_TIMEOUT_MS = 30_000;
/** The bundle targets Node 20 (see scripts/build.mjs). */
const MIN_NODE_MAJOR = 20;

const sh = (script: string, ...args: string[]): string[] => ['sh', '-c', script, 'ennio-node-deploy', ...args];

export function bundleDir(sha256: string): string {
  return sha256.slice(0, 16);
}
export function bundleRelPath(sha256: string): string {
  return `${bundleDir(sha256)}/ennio-node.cjs`;
}

/** The local bundle, or undefined when none was found (the caller decides whether that is an error). */
export function bundleIfAny(t: DeployTarget): LocalBundle | undefined {
  try {
    return t.bundle();
  } catch (err) {
    if (isEnnioError(err, 'NODE_UNAVAILABLE')) return undefined;
    throw err;
  }
}

/** The local bundle, or undefined when there is none and a configured binary may do without it. */
function optionalBundle(t: DeployTarget): LocalBundle | undefined {
  return t.binaryPath === undefined ? t.bundle() : bundleIfAny(t);
}

export async function probe(t: DeployTarget): Promise<RemoteProbe> {
  const bundle = optionalBundle(t);
  const rel = bundle === undefined ? '' : bundleRelPath(bundle.sha256);
  const res = await execChecked(t.host, sh(PROBE, t.remoteDir, rel, t.binaryPath ?? ''), { timeoutMs: EXEC_TIMEOUT_MS });
  const kv = parseKeyValues(res.stdout);
  return {
    home: kv.get('home') ?? '',
    dir: kv.get('dir') ?? t.remoteDir,
    nodeVersion: kv.get('node') || undefined,
    copySha: rel === '' ? undefined : kv.get('sha'),
    haveBundle: bundle !== undefined,
    customBinary: kv.get('custom'),
    token: kv.get('token') || undefined,
  };
}

function assertNode(t: DeployTarget, version: string | undefined): void {
  const major = version === undefined ? NaN : Number(/^v(\d+)\./.exec(version)?.[1]);
  if (Number.isNaN(major)) {
    throw new EnnioError('TOOL_MISSING', `node is not installed on ${t.host.label} (needed to run ennio-node)`, {
      hint: `install Node.js ${MIN_NODE_MAJOR}+ there, or set node_config.ennio_binary_path to an installed ennio-node`,
    });
  }
  if (major < MIN_NODE_MAJOR) {
    throw new EnnioError('TOOL_MISSING', `node ${version ?? ''} on ${t.host.label} is too old for ennio-node (needs ${MIN_NODE_MAJOR}+)`, {
      hint: `upgrade Node.js there, or set node_config.ennio_binary_path`,
    });
  }
}

/** What to start: our uploaded bundle, or the configured ennio_binary_path. */
export interface Program {
  path: string;
  style: 'bundle' | 'binary';
}

/**
 * Make sure the program to start exists on the remote. A configured ennio_binary_path is
 * used when it exists there; when it does not, our bundle is uploaded instead and `warn`
 * says so (the rule: "ennio_binary_path when configured and present; otherwise
 * upload").
 */
export async function ensureProgram(t: DeployTarget, p: RemoteProbe, warn: (message: string) => void = () => {}): Promise<Program> {
  if (t.binaryPath !== undefined) {
    if (p.customBinary !== undefined) {
      if (/\.(c|m)?js$/.test(p.customBinary)) assertNode(t, p.nodeVersion);
      return { path: p.customBinary, style: 'binary' };
    }
    if (!p.haveBundle) {
      throw new EnnioError('NODE_UNAVAILABLE', `node_config.ennio_binary_path ${t.binaryPath} does not exist on ${t.host.label}, and there is no local ennio-node bundle to upload instead`, {
        hint: 'install ennio-node there, or build the bundle here (npm run build)',
      });
    }
    warn(`node_config.ennio_binary_path ${t.binaryPath} does not exist on ${t.host.label}; uploading ennio's own ennio-node instead`);
  }
  assertNode(t, p.nodeVersion);
  const bundle = t.bundle();
  const target = posix.join(p.dir, bundleRelPath(bundle.sha256));
  if (p.copySha === bundle.sha256) return { path: target, style: 'bundle' };
  // Upload next to the target, verify there, then rename: a half-written or corrupted
  // copy never sits at the path a daemon is started from.
  const staging = `${target}.upload`;
  await t.host.uploadFile(bundle.data, staging, 0o700);
  const verified = await t.host.exec(sh(VERIFY, staging, bundle.sha256), { timeoutMs: EXEC_TIMEOUT_MS });
  if (verified.code !== 0) {
    await t.host.exec(['rm', '-f', '--', staging]);
    throw new EnnioError('NODE_UNAVAILABLE', `the ennio-node upload to ${t.host.label} arrived corrupted (${verified.stderr.trim()})`);
  }
  await execChecked(t.host, ['mv', '-f', '--', staging, target]);
  return { path: target, style: 'bundle' };
}

/**
 * Start the daemon detached. The token goes through stdin into the 0600 token file:
 * `create` keeps a file that already exists (another orchestrator got there first),
 * `replace` overwrites it (a configured auth_token). Returns the pid and the token the
 * daemon was really given (the file's content after that step).
 */
export async function startRemote(t: DeployTarget, program: Program, token: string, policy: 'create' | 'replace'): Promise<{ pid: number; token: string }> {
  const flags = ['--idle-timeout', String(t.idleTimeoutSecs)];
  if (t.workspaceRoot !== undefined) flags.push('--workspace-root', t.workspaceRoot);
  // Not a spec flag: only tests and ENNIO_TMUX_SOCKET set it.
  if (t.tmuxSocket !== undefined) flags.push('--tmux-socket', t.tmuxSocket);
  const res = await execChecked(t.host, sh(START, t.remoteDir, program.path, String(t.port), policy, program.style, ...flags), {
    input: `${token}\n`,
    timeoutMs: EXEC_TIMEOUT_MS,
  });
  const kv = parseKeyValues(res.stdout);
  const used = kv.get('token');
  if (!used) throw new EnnioError('NODE_UNAVAILABLE', `starting ennio-node on ${t.host.label} did not report its auth token`);
  return { pid: Number(kv.get('pid')), token: used };
}

export interface LockAttempt {
  locked: boolean;
  /** The lock's content when we did not get it (see LOCK). */
  holder: string;
  /** Whether the holder's process is alive; undefined when it cannot be checked. */
  holderAlive?: boolean;
  /** The content of a lock we broke to get it (its holder was gone, or it was stale). */
  broke?: string;
}

/** Try to take the deploy lock once. */
export async function tryLock(t: DeployTarget, owner: string, staleSecs: number): Promise<LockAttempt> {
  const res = await execChecked(t.host, sh(LOCK, t.remoteDir, String(t.port), owner, String(staleSecs)), { timeoutMs: EXEC_TIMEOUT_MS });
  const kv = parseKeyValues(res.stdout);
  const broke = kv.get('broke');
  const alive = kv.get('alive');
  return {
    locked: kv.get('lock') === '1',
    holder: kv.get('holder') ?? '',
    ...(alive === '1' || alive === '0' ? { holderAlive: alive === '1' } : {}),
    ...(broke ? { broke } : {}),
  };
}

export async function unlock(t: DeployTarget, owner: string): Promise<void> {
  await execChecked(t.host, sh(UNLOCK, t.remoteDir, String(t.port), owner), { timeoutMs: EXEC_TIMEOUT_MS });
}

export type ListenerOwner = { kind: 'ours' } | { kind: 'none' } | { kind: 'unknown' } | { kind: 'other'; uid: string };

/** Whose process listens on the remote 127.0.0.1:<port> (see LISTENER). */
export async function listenerOwner(t: DeployTarget): Promise<ListenerOwner> {
  const res = await execChecked(t.host, ['sh', '-c', LISTENER, 'ennio-node-listener', String(t.port)], { timeoutMs: EXEC_TIMEOUT_MS });
  const v = parseKeyValues(res.stdout).get('listen') ?? 'unknown';
  if (v === 'ours' || v === 'none') return { kind: v };
  if (v.startsWith('other:')) return { kind: 'other', uid: v.slice('other:'.length) };
  return { kind: 'unknown' };
}

export async function daemonAlive(t: DeployTarget): Promise<boolean> {
  const res = await execChecked(t.host, sh(PID_ALIVE, t.remoteDir, String(t.port)), { timeoutMs: EXEC_TIMEOUT_MS });
  return parseKeyValues(res.stdout).get('alive') === '1';
}

export async function signalDaemon(t: DeployTarget, signal: 'TERM' | 'KILL'): Promise<void> {
  await execChecked(t.host, sh(PID_KILL, t.remoteDir, String(t.port), signal), { timeoutMs: EXEC_TIMEOUT_MS });
}

export async function logTail(t: DeployTarget): Promise<string> {
  const res = await t.host.exec(sh(LOG_TAIL, t.remoteDir, String(t.port)), { timeoutMs: EXEC_TIMEOUT_MS });
  return res.stdout.trim();
}
