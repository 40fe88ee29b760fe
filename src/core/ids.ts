import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789'; // no look-alikes (l/1, o/0)

/** `<prefix>-<6 chars>`: short enough to type, valid as a tmux session name and in a branch. */
export function newSessionId(prefix: string): string {
  const bytes = randomBytes(6);
  let suffix = '';
  for (const b of bytes) suffix += ALPHABET[b % ALPHABET.length];
  return `${prefix}-${suffix}`;
}

/** A project name made safe for tmux session names (letters, digits, - and _). */
export function defaultPrefix(projectName: string): string {
  return projectName.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 20);
}
