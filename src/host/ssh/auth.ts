/**
 * Client authentication for ssh2, built from the project's `auth` (key / agent /
 * password) or, when it is omitted, like OpenSSH: the agent (SSH_AUTH_SOCK) plus the
 * IdentityFiles ssh -G reported that exist and need no passphrase. Problems that can be
 * seen before connecting (missing key file, wrong passphrase, empty agent) are reported
 * here with the file or socket named. Secrets never appear in messages.
 */
import { readFileSync } from 'node:fs';
import type { AnyAuthMethod, AuthHandlerMiddleware, ParsedKey } from 'ssh2';
import type { AuthConfig } from '../../config/schema.js';
import { EnnioError } from '../../core/errors.js';
import { expandSshPath } from './resolve.js';
import { OpenSSHAgent, parseKey } from './ssh2-lib.js';
import { currentEnv } from '../../core/request-env.js';

export interface AuthTarget {
  host: string;
  port: number;
  username: string;
  identityFiles: readonly string[];
  auth?: AuthConfig;
}

export interface AuthPlan {
  methods: AnyAuthMethod[];
  /** One human description per method, in order, e.g. `key /home/u/.ssh/id_ed25519`. */
  descriptions: string[];
  /** The agent socket, when one is used (agent forwarding needs it). */
  agentSocket?: string;
}

/** True for PEM files with Proc-Type ENCRYPTED, PKCS#8 ENCRYPTED, or OpenSSH keys whose cipher is not `none`. */
export function isEncryptedKey(text: string): boolean {
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(text) || /^Proc-Type:\s*4,ENCRYPTED/m.test(text)) return true;
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (!m?.[1]) return false;
  const raw = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  const magic = 'openssh-key-v1\0';
  if (raw.subarray(0, magic.length).toString('latin1') !== magic) return false;
  const len = raw.readUInt32BE(magic.length);
  return raw.subarray(magic.length + 4, magic.length + 4 + len).toString('latin1') !== 'none';
}

export type KeyLoad = { ok: true; key: ParsedKey } | { ok: false; error: EnnioError; encrypted: boolean; missing: boolean };

/** Read and parse a private key; failures say which file and what to do. Read synchronously, like known_hosts (a few KB). */
export async function loadPrivateKey(path: string, passphrase?: string): Promise<KeyLoad> {
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    const why = missing ? 'does not exist' : `cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`;
    return { ok: false, missing, encrypted: false, error: new EnnioError('SSH_AUTH', `private key ${path} ${why}`, { cause, hint: 'check auth.path in ennio.yaml' }) };
  }
  const encrypted = isEncryptedKey(text.toString('latin1'));
  if (encrypted && !passphrase) {
    return {
      ok: false, missing: false, encrypted,
      error: new EnnioError('SSH_AUTH', `private key ${path} is encrypted and no passphrase was given`, {
        hint: 'set auth.passphrase: ${SSH_PASSPHRASE} in ennio.yaml, or load the key into ssh-agent and use auth: {type: agent}',
      }),
    };
  }
  const parsed = parseKey(text, passphrase);
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  if (key instanceof Error || key === undefined || !key.isPrivateKey()) {
    const message = encrypted
      ? `could not decrypt private key ${path}: wrong passphrase`
      : `${path} is not a usable private key${key instanceof Error ? ` (${key.message})` : ''}`;
    const hint = encrypted ? 'check auth.passphrase (the ${SSH_PASSPHRASE} it names)' : 'use an OpenSSH or PEM private key (ssh-keygen -t ed25519)';
    return { ok: false, missing: false, encrypted, error: new EnnioError('SSH_AUTH', message, { hint }) };
  }
  return { ok: true, key };
}

/** Number of identities the agent holds; rejects when the socket cannot be used. */
export function agentIdentityCount(socket: string): Promise<number> {
  return new Promise((resolve, reject) => {
    new OpenSSHAgent(socket).getIdentities((err, keys) => {
      if (err) {
        reject(new EnnioError('SSH_AUTH', `cannot talk to ssh-agent at ${socket}: ${err.message}`, {
          cause: err,
          hint: 'start an agent (eval "$(ssh-agent)") and ssh-add your key, or check SSH_AUTH_SOCK',
        }));
      } else resolve(keys?.length ?? 0);
    });
  });
}

export async function buildAuthPlan(target: AuthTarget, env: NodeJS.ProcessEnv = currentEnv()): Promise<AuthPlan> {
  const username = target.username;
  const auth = target.auth;
  const socket = env.SSH_AUTH_SOCK || undefined;
  const ctx = { host: target.host, port: target.port, username, alias: target.host };

  if (auth?.type === 'key') {
    const path = expandSshPath(auth.path, ctx);
    const loaded = await loadPrivateKey(path, auth.passphrase);
    if (!loaded.ok) throw loaded.error;
    return { methods: [{ type: 'publickey', username, key: loaded.key }], descriptions: [`key ${path}`], ...(socket ? { agentSocket: socket } : {}) };
  }

  if (auth?.type === 'agent') {
    if (!socket) {
      throw new EnnioError('SSH_AUTH', 'auth.type is agent but SSH_AUTH_SOCK is not set', {
        hint: 'start an agent (eval "$(ssh-agent)"), ssh-add your key, and run ennio from that shell',
      });
    }
    const count = await agentIdentityCount(socket);
    if (count === 0) {
      throw new EnnioError('SSH_AUTH', `the ssh-agent at ${socket} holds no keys`, { hint: 'add one with ssh-add ~/.ssh/id_ed25519' });
    }
    return { methods: [{ type: 'agent', username, agent: socket }], descriptions: [`agent ${socket} (${count} key${count === 1 ? '' : 's'})`], agentSocket: socket };
  }

  if (auth?.type === 'password') {
    const password = auth.password;
    return {
      methods: [
        { type: 'password', username, password },
        // Servers with PasswordAuthentication off often still ask through keyboard-interactive (PAM).
        { type: 'keyboard-interactive', username, prompt: (_n, _i, _l, prompts, finish) => finish(prompts.map(() => password)) },
      ],
      descriptions: ['password', 'keyboard-interactive (password)'],
      ...(socket ? { agentSocket: socket } : {}),
    };
  }

  // No auth configured: what `ssh` would try without prompting.
  const methods: AnyAuthMethod[] = [];
  const descriptions: string[] = [];
  const skipped: string[] = [];
  if (socket) {
    const count = await agentIdentityCount(socket).catch((err: EnnioError) => {
      skipped.push(err.message);
      return 0;
    });
    if (count > 0) {
      methods.push({ type: 'agent', username, agent: socket });
      descriptions.push(`agent ${socket} (${count} key${count === 1 ? '' : 's'})`);
    } else if (skipped.length === 0) skipped.push(`the ssh-agent at ${socket} holds no keys`);
  }
  for (const path of target.identityFiles) {
    const loaded = await loadPrivateKey(path);
    if (loaded.ok) {
      methods.push({ type: 'publickey', username, key: loaded.key });
      descriptions.push(`key ${path}`);
    } else if (!loaded.missing) skipped.push(loaded.error.message);
  }
  if (methods.length === 0) {
    throw new EnnioError('SSH_AUTH', `no usable credentials for ${username}@${target.host}:${target.port}${skipped.length ? ` (${skipped.join('; ')})` : ''}`, {
      hint: 'set ssh_config.auth in ennio.yaml (type: key with path, agent, or password), or start ssh-agent and ssh-add a key',
    });
  }
  return { methods, descriptions, ...(socket ? { agentSocket: socket } : {}) };
}

/** ssh2 authHandler trying the plan's methods in order, recording which were tried. */
export function planAuthHandler(plan: AuthPlan, tried: string[]): AuthHandlerMiddleware {
  let next = 0;
  return (_methodsLeft, _partial, callback) => {
    const method = plan.methods[next];
    const description = plan.descriptions[next];
    next += 1;
    if (!method) {
      // ssh2's typing omits `false` (= no more methods), which its runtime documents and accepts.
      (callback as (m: AnyAuthMethod | false) => void)(false);
      return;
    }
    if (description) tried.push(description);
    callback(method);
  };
}
