/**
 * Putting ennio-node on a remote host and starting it, over the SshHost (every step is
 * one pooled-shell round trip; the bundle upload streams through the same shell):
 *
 *   probe   → home, node version, setsid, sha256 of our copy, the remote token file
 *   upload  → only when our copy is missing or differs: to a temp name, verified with
 *             sha256sum on the remote, renamed into ~/.ennio/node/<sha>/ennio-node.cjs
 *   start   → detached (setsid/nohup), token through a 0600 file written from stdin
 *
 * With node_config.ennio_binary_path the configured daemon is started instead (when it
 * exists there), and nothing is uploaded.
 */
import { posix } from 'node:path';
import type { Duplex } from 'node:stream';
import { EnnioError } from '../../core/errors.js';
import { execChecked, type Host } from '../../host/host.js';
import type { LocalBundle } from './bundle.js';
import { LOG_TAIL, PID_ALIVE, PID_KILL, PROBE, START, VERIFY, parseKeyValues } from './remote-scripts.js';

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
  /** sha256 of the bundle copy already on the remote, if any. */
  copySha: string | undefined;
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

export async function probe(t: DeployTarget): Promise<RemoteProbe> {
  const rel = t.binaryPath === undefined ? bundleRelPath(t.bundle().sha256) : '';
  const res = await execChecked(t.host, sh(PROBE, t.remoteDir, rel, t.binaryPath ?? ''), { timeoutMs: EXEC_TIMEOUT_MS });
  const kv = parseKeyValues(res.stdout);
  return {
    home: kv.get('home') ?? '',
    dir: kv.get('dir') ?? t.remoteDir,
    nodeVersion: kv.get('node') || undefined,
    copySha: rel === '' ? undefined : kv.get('sha'),
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

/** Make sure the program to start exists on the remote; returns its path. */
export async function ensureProgram(t: DeployTarget, p: RemoteProbe): Promise<string> {
  if (t.binaryPath !== undefined) {
    if (p.customBinary !== undefined) {
      if (/\.(c|m)?js$/.test(p.customBinary)) assertNode(t, p.nodeVersion);
      return p.customBinary;
    }
    throw new EnnioError('NODE_UNAVAILABLE', `node_config.ennio_binary_path ${t.binaryPath} does not exist on ${t.host.label}`, {
      hint: 'install ennio-node there, or remove ennio_binary_path to let ennio upload its own copy',
    });
  }
  assertNode(t, p.nodeVersion);
  const bundle = t.bundle();
  const target = posix.join(p.dir, bundleRelPath(bundle.sha256));
  if (p.copySha === bundle.sha256) return target;
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
  return target;
}

/** Start the daemon detached; the token goes through stdin into a 0600 file. */
export async function startRemote(t: DeployTarget, program: string, token: string): Promise<number> {
  const flags = ['--idle-timeout', String(t.idleTimeoutSecs)];
  if (t.workspaceRoot !== undefined) flags.push('--workspace-root', t.workspaceRoot);
  if (t.tmuxSocket !== undefined) flags.push('--tmux-socket', t.tmuxSocket);
  const res = await execChecked(t.host, sh(START, t.remoteDir, program, String(t.port), ...flags), {
    input: `${token}\n`,
    timeoutMs: EXEC_TIMEOUT_MS,
  });
  return Number(parseKeyValues(res.stdout).get('pid'));
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
