/**
 * ssh2 is CommonJS and Node's ESM loader cannot see its named exports, so values are
 * taken from the default export here, once. Types are imported from 'ssh2' directly.
 */
import ssh2 from 'ssh2';

export const SshClient = ssh2.Client;
export const OpenSSHAgent = ssh2.OpenSSHAgent;
export const parseKey = ssh2.utils.parseKey;
