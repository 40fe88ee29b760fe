/**
 * The remote deploy lock: anything that changes the remote daemon (deploy, upgrade,
 * restart) runs holding it, so two orchestrators never race on the daemon or its token.
 * A lock older than LOCK_STALE_SECS was left by an ennio that stopped mid-deploy.
 */
import { randomBytes } from 'node:crypto';
import { EnnioError } from '../../core/errors.js';
import { tryLock, unlock, type DeployTarget } from './deploy.js';

export const LOCK_STALE_SECS = 180;
const LOCK_POLL_MS = 200;

export interface LockNotices {
  /** The node's label, for messages. */
  label: string;
  log: (message: string) => void;
  warn: (message: string) => void;
}

/** Run `fn` holding the remote deploy lock (waits while another orchestrator holds it). */
export async function withDeployLock<T>(target: DeployTarget, notices: LockNotices, fn: () => Promise<T>): Promise<T> {
  const owner = randomBytes(8).toString('hex');
  const giveUpAt = Date.now() + (LOCK_STALE_SECS + 30) * 1000;
  let announced = false;
  for (;;) {
    const res = await tryLock(target, owner, LOCK_STALE_SECS);
    if (res.locked) {
      if (res.broke !== undefined) notices.warn(`removed a stale ennio-node deploy lock on ${target.host.label} (${res.broke}), left by an ennio that stopped mid-deploy`);
      break;
    }
    if (!announced) {
      announced = true;
      notices.log(`waiting for another ennio that is deploying ennio-node on ${notices.label}`);
    }
    if (Date.now() > giveUpAt) {
      throw new EnnioError('NODE_UNAVAILABLE', `another ennio holds the ennio-node deploy lock on ${target.host.label} (${target.remoteDir}/deploy-${target.port}.lock → ${res.holder})`, {
        hint: 'if no ennio is deploying there, remove that file',
      });
    }
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
  }
  try {
    return await fn();
  } finally {
    await unlock(target, owner).catch((err: unknown) => {
      notices.warn(`could not release the ennio-node deploy lock on ${target.host.label} (${err instanceof Error ? err.message : String(err)}); it expires after ${LOCK_STALE_SECS} s`);
    });
  }
}
