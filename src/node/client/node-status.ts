/**
 * What `ennio node status|list` (and a node session's details) show for one daemon: one
 * Heartbeat, never a deploy, and every failure turned into a row rather than thrown.
 */
import { isEnnioError } from '../../core/errors.js';
import type { BuildPolicy } from './build-policy.js';
import { checkDaemon, isSshLevel, type DaemonCheck } from './daemon-check.js';
import type { DeployTarget } from './deploy.js';
import { ForeignListenerError } from './listener-guard.js';
import type { HeartbeatInfo, NodeClient } from './node-client.js';

export type NodeStatusInfo =
  | { kind: 'running'; reachable: true; heartbeat: HeartbeatInfo; current: boolean; note?: string }
  | { kind: 'not-running' | 'ssh-unreachable' | 'refused' | 'unknown' | 'error'; reachable: false; reason: string };

export async function nodeStatus(client: NodeClient, target: DeployTarget, policy: BuildPolicy): Promise<NodeStatusInfo> {
  let state: DaemonCheck;
  try {
    state = await checkDaemon(client, target);
  } catch (err) {
    if (!isEnnioError(err)) throw err;
    if (isSshLevel(err)) return { kind: 'ssh-unreachable', reachable: false, reason: err.message };
    if (err instanceof ForeignListenerError) return { kind: 'refused', reachable: false, reason: err.message };
    return { kind: 'error', reachable: false, reason: err.message };
  }
  if (state.kind === 'ok') return { kind: 'running', reachable: true, heartbeat: state.hb, ...policy.currentForStatus(state.hb) };
  if (state.kind === 'down') return { kind: 'not-running', reachable: false, reason: `no daemon answers (${client.tunnel.lastDialError?.message ?? 'tunnel failed'})` };
  if (state.kind === 'unauth') return { kind: 'refused', reachable: false, reason: state.err.message };
  return { kind: 'error', reachable: false, reason: state.err.message };
}
