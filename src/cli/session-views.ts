/** How sessions look in a terminal: status colours, the ACTIVITY cell, the sessions table. */
import pc from 'picocolors';
import type { SessionJson } from '../api/contract.js';
import { elapsed, age, table } from './output.js';

export function colorStatus(status: string): string {
  const paint = { running: pc.green, spawning: pc.yellow, exited: pc.yellow, killed: pc.dim, failed: pc.red }[status];
  return paint && process.stdout.isTTY ? paint(status) : status;
}

/** "waiting 3m": what a running agent does and for how long ('-' once it is not running). */
function activityCell(s: SessionJson): string {
  if (s.status !== 'running' && s.status !== 'spawning') return '-';
  const label = s.activity === 'waiting_input' ? 'waiting' : s.activity;
  const text = `${label} ${elapsed(s.activity_since)}`;
  const paint = { waiting_input: pc.magenta, working: pc.cyan, idle: pc.green }[s.activity as string];
  return paint && process.stdout.isTTY ? paint(text) : text;
}

export function sessionsTable(sessions: SessionJson[]): string {
  if (sessions.length === 0) return 'no sessions';
  return table(
    ['ID', 'PROJECT', 'STATUS', 'ACTIVITY', 'AGENT', 'HOST', 'BRANCH', 'CREATED'],
    sessions.map((s) => [s.id, s.project, colorStatus(s.unreachable ? `${s.status} (unreachable: ${s.unreachable_reason ?? 'error'})` : s.status), activityCell(s), s.agent, s.host, s.branch, age(s.created_at)]),
  );
}
