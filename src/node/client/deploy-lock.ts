/**
 * The remote deploy lock: anything that changes the remote daemon (deploy, upgrade,
 * restart) runs holding it, so two orchestrators never race on the daemon or its token.
 *
 * The lock records its holder: the sshd process of the deployer's SSH connection, with
 * its start time so a reused pid is not mistaken for it (remote-scripts.ts LOCK). An
 * ennio killed mid-deploy closes its connection, that sshd exits, and the next ennio
 * takes the lock over at once. A live holder is waited for, saying so after a second
 * (progress). Only a lock whose holder cannot be checked (no /proc there, an old lock
 * format) falls back to age: it is stale after LOCK_STALE_SECS.
 */
import { randomBytes } from 'node:crypto';
import { EnnioError } from '../../core/errors.js';
import { progressTask } from '../../core/progress.js';
import { tryLock, unlock, type DeployTarget, type LockAttempt } from './deploy.js';

export const LOCK_STALE_SECS = 180;
/** How long we wait for a live holder before giving up with an error that names it. */
const GIVE_UP_SECS = LOCK_STALE_SECS + 30;
const LOCK_POLL_MS = 200;
/** Waits shorter than this are not worth a line. */
const SHOW_WAIT_AFTER_MS = 1000;

export interface LockNotices {
  /** The node's label, for messages. */
  label: string;
  warn: (message: string) => void;
}

/** A lock's content "<owner>.<epoch>[.<pid>.<start>.<hostname>]", parsed for messages. */
export interface LockHolder {
  since?: number;
  pid?: number;
  hostname?: string;
}

export function parseLockHolder(content: string): LockHolder {
  const [, since, pid, , ...hostname] = content.split('.');
  const num = (v: string | undefined): number | undefined => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
  const out: LockHolder = {};
  const s = num(since);
  const p = num(pid);
  if (s !== undefined) out.since = s;
  if (p !== undefined) out.pid = p;
  if (hostname.length > 0) out.hostname = hostname.join('.');
  return out;
}

/** "sshd pid 1234 on build-1, locked 12 s ago" (whatever of that the lock says). */
export function describeLockHolder(content: string, nowMs = Date.now()): string {
  const h = parseLockHolder(content);
  const parts: string[] = [];
  if (h.pid !== undefined) parts.push(`its SSH connection is sshd pid ${h.pid}${h.hostname !== undefined ? ` on ${h.hostname}` : ''}`);
  if (h.since !== undefined) parts.push(`locked ${Math.max(0, Math.round(nowMs / 1000 - h.since))} s ago`);
  return parts.length > 0 ? parts.join(', ') : content || 'unknown holder';
}

function waitText(label: string, res: LockAttempt, waitedMs: number): string {
  const state = res.holderAlive === undefined ? `stale after ${LOCK_STALE_SECS} s` : 'still connected';
  return `waiting for another ennio that is deploying ennio-node on ${label} (${describeLockHolder(res.holder)}; ${state}; ${Math.round(waitedMs / 1000)} s)…`;
}

/** Run `fn` holding the remote deploy lock (waits while another orchestrator holds it). */
export async function withDeployLock<T>(target: DeployTarget, notices: LockNotices, fn: () => Promise<T>): Promise<T> {
  const owner = randomBytes(8).toString('hex');
  const started = Date.now();
  const task = progressTask();
  try {
    for (;;) {
      const res = await tryLock(target, owner, LOCK_STALE_SECS);
      if (res.locked) {
        if (res.broke !== undefined) notices.warn(`took over the ennio-node deploy lock on ${target.host.label} from an ennio that stopped mid-deploy (${describeLockHolder(res.broke)})`);
        break;
      }
      const waited = Date.now() - started;
      if (waited >= SHOW_WAIT_AFTER_MS) task.update(waitText(notices.label, res, waited));
      if (waited > GIVE_UP_SECS * 1000) {
        throw new EnnioError('NODE_UNAVAILABLE', `another ennio holds the ennio-node deploy lock on ${target.host.label} (${target.remoteDir}/deploy-${target.port}.lock: ${describeLockHolder(res.holder)})`, {
          hint: 'if no ennio is deploying there, remove that file',
        });
      }
      await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
    }
  } finally {
    task.done();
  }
  try {
    return await fn();
  } finally {
    await unlock(target, owner).catch((err: unknown) => {
      notices.warn(`could not release the ennio-node deploy lock on ${target.host.label} (${err instanceof Error ? err.message : String(err)}); the next ennio takes it over once this connection is gone`);
    });
  }
}
