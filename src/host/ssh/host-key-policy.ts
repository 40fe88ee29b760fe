/**
 * Host key verification with the project's policy, as an ssh2 hostVerifier. ssh2 calls
 * it during key exchange, before authentication: refusing there means no command can
 * ever run on a host whose key does not check out.
 *
 *   strict      known → ok; unknown → HOST_KEY_UNKNOWN; changed → HOST_KEY_CHANGED
 *   accept_new  known → ok; unknown → appended to known_hosts; changed → HOST_KEY_CHANGED
 *   accept_all  anything but a revoked key → ok, with a warning on stderr
 * A key listed as @revoked is refused under every policy.
 */
import type { HostVerifier, ServerHostKeyAlgorithm } from 'ssh2';
import { EnnioError } from '../../core/errors.js';
import {
  appendKnownHostLine,
  checkKnownHost,
  fingerprint,
  formatKnownHostLine,
  keyTypeOfBlob,
  knownHostName,
  knownKeyTypes,
  loadKnownHosts,
  type KnownHostEntry,
} from './known-hosts.js';
import type { HostKeyPolicy } from './resolve.js';

export interface HostKeyCheckOptions {
  host: string;
  port: number;
  hostKeyAlias?: string;
  policy: HostKeyPolicy;
  knownHostsPath: string;
  extraKnownHostsPaths?: readonly string[];
  /** Hash appended entries like `ssh-keygen -H` (OpenSSH's HashKnownHosts). */
  hashNewEntries?: boolean;
  warn: (message: string) => void;
}

export interface HostKeyGuard {
  /** Host key algorithms with the types already known for this host first. */
  serverHostKey: ServerHostKeyAlgorithm[];
  verifier: HostVerifier;
  /** Why the verifier refused the key, once it has. */
  refusal(): EnnioError | undefined;
}

/** ssh2's own default order (lib/protocol/constants.js). */
const DEFAULT_HOST_KEY_ALGOS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521',
  'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa',
];

function algorithmsFor(keyType: string): ServerHostKeyAlgorithm[] {
  if (keyType === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return DEFAULT_HOST_KEY_ALGOS.filter((a) => a === keyType);
}

/**
 * Like OpenSSH, prefer key types already in known_hosts: otherwise a server offering a
 * new ed25519 key next to a known rsa key would look "unknown" instead of matching.
 */
export function preferKnownTypes(types: readonly string[]): ServerHostKeyAlgorithm[] {
  const preferred = types.flatMap(algorithmsFor);
  return [...preferred, ...DEFAULT_HOST_KEY_ALGOS.filter((a) => !preferred.includes(a))];
}

const where = (e: KnownHostEntry): string => `${e.file}:${e.line}`;

export async function prepareHostKeyGuard(opts: HostKeyCheckOptions): Promise<HostKeyGuard> {
  const name = knownHostName(opts.hostKeyAlias ?? opts.host, opts.port);
  const files = [opts.knownHostsPath, ...(opts.extraKnownHostsPaths ?? [])];
  const initial = await loadKnownHosts(files);
  let refused: EnnioError | undefined;

  const decide = async (blob: Buffer): Promise<EnnioError | undefined> => {
    // Read again: another process (or connection) may have added the key meanwhile.
    const entries = await loadKnownHosts(files);
    const match = checkKnownHost(entries, name, blob);
    const fp = fingerprint(blob);
    const type = keyTypeOfBlob(blob);
    switch (match.status) {
      case 'known':
        return undefined;
      case 'revoked':
        return new EnnioError('HOST_KEY_CHANGED', `the ${type} host key of ${name} (${fp}) is marked @revoked in ${where(match.entry)}; refusing to connect`, {
          hint: 'the server must be given a new host key; ask its administrator',
        });
      case 'changed': {
        const old = fingerprint(match.entry.blob);
        if (opts.policy === 'accept_all') {
          opts.warn(`warning: the ${type} host key of ${name} CHANGED (known: ${old} in ${where(match.entry)}, presented: ${fp}); accepting it because host_key_policy is accept_all`);
          return undefined;
        }
        return new EnnioError(
          'HOST_KEY_CHANGED',
          `the ${type} host key of ${name} has CHANGED: ${where(match.entry)} has ${old}, the server presented ${fp}. ` +
            'Someone may be intercepting the connection (man in the middle), or the host was reinstalled.',
          { hint: `if the change is expected, remove the old entry: ssh-keygen -R '${name}' -f ${match.entry.file}` },
        );
      }
      case 'unknown':
        if (opts.policy === 'strict') {
          return new EnnioError('HOST_KEY_UNKNOWN', `the ${type} host key of ${name} (${fp}) is not in ${opts.knownHostsPath} and host_key_policy is strict`, {
            hint: `verify the fingerprint with the host's administrator, then add it: ssh-keyscan -p ${opts.port} ${opts.host} >> ${opts.knownHostsPath} (or use host_key_policy: accept_new)`,
          });
        }
        if (opts.policy === 'accept_all') {
          opts.warn(`warning: accepting unknown ${type} host key ${fp} of ${name} without verification (host_key_policy: accept_all)`);
          return undefined;
        }
        await appendKnownHostLine(opts.knownHostsPath, formatKnownHostLine(name, blob, { hashed: opts.hashNewEntries ?? false }));
        opts.warn(`ennio: permanently added the ${type} host key ${fp} of ${name} to ${opts.knownHostsPath}`);
        return undefined;
    }
  };

  const verifier: HostVerifier = (key, verify) => {
    decide(key).then(
      (err) => {
        refused = err;
        verify(err === undefined);
      },
      (cause: unknown) => {
        refused = new EnnioError('SSH_CONNECT', `could not check the host key of ${name} against ${opts.knownHostsPath}: ${String(cause)}`, { cause });
        verify(false);
      },
    );
  };

  return {
    serverHostKey: preferKnownTypes(knownKeyTypes(initial, name)),
    verifier,
    refusal: () => refused,
  };
}
