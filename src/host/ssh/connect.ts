/**
 * Open one authenticated ssh2 connection to the target, through its ProxyJump bastions:
 * connect to hop 1, `forwardOut` from it to hop 2 and hand that stream to the next
 * client as its socket, and so on. Every hop's host key is checked with the project's
 * policy. One deadline (connection_timeout) bounds the whole chain.
 */
import type { Client, ConnectConfig } from 'ssh2';
import type { Duplex } from 'node:stream';
import { EnnioError, isEnnioError } from '../../core/errors.js';
import { buildAuthPlan, planAuthHandler } from './auth.js';
import { prepareHostKeyGuard } from './host-key-policy.js';
import type { Hop, ResolvedSshTarget } from './resolve.js';
import { SshClient } from './ssh2-lib.js';
import { takeDialed } from './pre-dial.js';
import { trace } from '../../core/trace.js';

export interface ConnectOptions {
  /** Epoch ms by which the whole chain must be up (default: now + connection_timeout). */
  deadline?: number;
  warn: (message: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Abandon the attempt (the owner closed): the half-open client is destroyed at once. */
  signal?: AbortSignal;
}

export interface ConnectedChain {
  /** The client connected to the target. */
  client: Client;
  /** Bastion clients, first hop first; closed together with the target. */
  hops: Client[];
}

const hopLabel = (h: Hop): string => `${h.username}@${h.host}:${h.port}`;

interface ErrorWithLevel extends Error {
  level?: string;
  code?: string;
}

async function connectOne(
  hop: Hop,
  target: ResolvedSshTarget,
  opts: ConnectOptions,
  deadline: number,
  sock: Duplex | undefined,
  role: string,
): Promise<Client> {
  const label = hopLabel(hop);
  const guard = await prepareHostKeyGuard({
    host: hop.host,
    port: hop.port,
    ...(hop.hostKeyAlias ? { hostKeyAlias: hop.hostKeyAlias } : {}),
    policy: target.hostKeyPolicy,
    knownHostsPath: target.knownHostsPath,
    extraKnownHostsPaths: target.extraKnownHostsPaths,
    hashNewEntries: target.hashKnownHosts,
    warn: opts.warn,
  });
  // Bastions use the project's explicit key auth too (usually the same key); without one,
  // the agent and the bastion's own IdentityFiles, as OpenSSH would. The target's
  // password is for the target only: it is never offered to a bastion.
  trace('ssh: host key guard ready');
  const hopAuth = role === 'target' || target.auth?.type !== 'password' ? target.auth : undefined;
  const plan = await buildAuthPlan({ ...hop, ...(hopAuth ? { auth: hopAuth } : {}) }, opts.env);
  trace('ssh: auth plan ready');
  const tried: string[] = [];
  const startedAt = Date.now();
  const remaining = Math.max(1, deadline - startedAt);
  const isTarget = role === 'target';
  // The first hop may have been dialed already, before ssh2 was loaded (pre-dial.ts).
  const socket = sock ?? takeDialed(hop.host, hop.port);
  const config: ConnectConfig = {
    host: hop.host,
    port: hop.port,
    username: hop.username,
    ...(socket ? { sock: socket } : {}),
    readyTimeout: remaining,
    keepaliveInterval: target.keepaliveIntervalMs,
    keepaliveCountMax: 3,
    hostVerifier: guard.verifier,
    algorithms: { serverHostKey: guard.serverHostKey },
    authHandler: planAuthHandler(plan, tried),
    ...(isTarget && target.forwardAgent && plan.agentSocket ? { agent: plan.agentSocket, agentForward: true } : {}),
  };
  if (isTarget && target.forwardAgent && !plan.agentSocket) {
    throw new EnnioError('SSH_AUTH', `forward_agent is set for ${label} but SSH_AUTH_SOCK is not set`, {
      hint: 'start ssh-agent and ssh-add your key, or set forward_agent: false',
    });
  }

  const client = new SshClient();
  trace(`ssh: connecting to ${label}`);
  client.once('ready', () => trace(`ssh: ${label} ready`));
  return new Promise<Client>((resolve, reject) => {
    let settled = false;
    const fail = (err: EnnioError): void => {
      if (settled) return;
      settled = true;
      client.removeAllListeners('ready');
      client.on('error', () => undefined); // late errors of a client we are discarding
      client.destroy();
      reject(err);
    };
    client.once('ready', () => {
      if (settled) return;
      settled = true;
      // The listeners stay (they ignore events once settled) so an 'error' between now and
      // the owner attaching its own handlers cannot crash the process.
      resolve(client);
    });
    client.on('error', (err: ErrorWithLevel) => {
      // ssh2 reports an agent that failed to sign as an error but then goes on with the next method.
      if (err.level === 'agent') return;
      const attempt = { name: isTarget ? target.alias || hop.host : hop.host, label, role, waitedMs: Date.now() - startedAt, timeoutMs: target.connectionTimeoutMs };
      fail(classify(err, attempt, guard.refusal(), tried));
    });
    client.once('close', () => {
      fail(guard.refusal() ?? new EnnioError('SSH_CONNECT', `connection to ${role} ${label} closed during the handshake`));
    });
    const onAbort = (): void => fail(new EnnioError('SSH_CONNECT', `connecting to ${role} ${label} was abandoned`));
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    client.once('ready', () => opts.signal?.removeEventListener('abort', onAbort));
    try {
      client.connect(config);
    } catch (cause) {
      fail(new EnnioError('SSH_CONNECT', `cannot connect to ${role} ${label}: ${(cause as Error).message}`, { cause }));
    }
  });
}

const secs = (ms: number): number => Math.max(1, Math.round(ms / 1000));

interface Attempt {
  /** The host as the project names it, for people. */
  name: string;
  label: string;
  role: string;
  waitedMs: number;
  timeoutMs: number;
}

function classify(err: ErrorWithLevel, attempt: Attempt, refusal: EnnioError | undefined, tried: string[]): EnnioError {
  const { name, label, role, waitedMs, timeoutMs } = attempt;
  if (refusal) return refusal;
  switch (err.level) {
    case 'client-authentication':
      return new EnnioError('SSH_AUTH', `authentication to ${role} ${label} failed (tried: ${tried.join(', ') || 'nothing'})`, {
        cause: err,
        hint: 'check ssh_config.username and ssh_config.auth, and that the public key is in ~/.ssh/authorized_keys on the host',
      });
    case 'client-timeout':
      return new EnnioError('SSH_CONNECT', `no answer from ${name} for ${secs(waitedMs)} s (connection_timeout ${secs(timeoutMs)} s) while connecting to ${role} ${label}`, {
        cause: err,
        hint: `check that ${name} is reachable (network, VPN, sshd), or raise ssh_config.connection_timeout`,
      });
    case 'client-socket': {
      const why = err.code === 'ECONNREFUSED' ? 'connection refused' : err.code === 'ENOTFOUND' ? 'host name not found' : err.message;
      return new EnnioError('SSH_CONNECT', `cannot connect to ${role} ${label}: ${why}`, {
        cause: err,
        hint: 'check ssh_config.host and port, and that sshd runs there',
      });
    }
    default:
      return new EnnioError('SSH_CONNECT', `SSH handshake with ${role} ${label} failed: ${err.message}`, { cause: err });
  }
}

function forwardThrough(client: Client, to: Hop, from: Hop): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, to.host, to.port, (err, stream) => {
      if (err) {
        reject(new EnnioError('SSH_CONNECT', `bastion ${hopLabel(from)} could not reach ${to.host}:${to.port}: ${err.message}`, {
          cause: err,
          hint: 'check proxy_jump, and that the bastion allows TCP forwarding (AllowTcpForwarding)',
        }));
      } else resolve(stream);
    });
  });
}

export async function connectChain(target: ResolvedSshTarget, opts: ConnectOptions): Promise<ConnectedChain> {
  const deadline = opts.deadline ?? Date.now() + target.connectionTimeoutMs;
  const hops: Client[] = [];
  const path: Hop[] = [...target.proxyJump, target];
  try {
    let sock: Duplex | undefined;
    for (let i = 0; i < path.length; i++) {
      const hop = path[i] as Hop;
      const role = i === path.length - 1 ? 'target' : `bastion ${i + 1}`;
      const client = await connectOne(hop, target, opts, deadline, sock, role);
      if (i === path.length - 1) return { client, hops };
      hops.push(client);
      sock = await forwardThrough(client, path[i + 1] as Hop, hop);
    }
    throw new EnnioError('INTERNAL', 'empty connection path');
  } catch (err) {
    for (const h of hops) h.end();
    if (isEnnioError(err)) throw err;
    throw new EnnioError('SSH_CONNECT', `cannot connect to ${hopLabel(target)}: ${String(err)}`, { cause: err });
  }
}
