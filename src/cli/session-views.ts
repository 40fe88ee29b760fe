/** How sessions look in a terminal: status colours, the ACTIVITY cell, the sessions table, one session's details. */
import pc from 'picocolors';
import type { SessionInfoJson, SessionJson } from '../api/contract.js';
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

/** `session info`: one field per line, then the recent events. */
export function sessionInfoText(s: SessionInfoJson): string {
  const rows: Array<[string, string]> = [
    ['id', s.id], ['project', s.project], ['status', colorStatus(s.status) + (s.unreachable ? ` (unreachable: ${s.unreachable_reason ?? 'error'})` : '')],
    ...(s.unreachable ? ([['unreachable', s.unreachable]] as Array<[string, string]>) : []),
    ['activity', `${s.activity} since ${s.activity_since} (${elapsed(s.activity_since)})`],
    ...(s.agent_session_id ? ([['agent session', s.agent_session_id]] as Array<[string, string]>) : []),
    ['agent', s.agent], ['runtime', s.runtime_name], ['backend', s.backend], ['host', s.host], ['branch', s.branch],
    ['workspace', s.workspace_path], ['created', `${s.created_at} (${age(s.created_at)})`],
    ...(s.issue ? ([['issue', s.issue]] as Array<[string, string]>) : []),
    ...Object.entries(s.runtime_info),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  let text = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
  if (s.events.length) text += `\nrecent events:\n${s.events.map((e) => `  ${e.created_at}  ${e.type}`).join('\n')}\n`;
  return text;
}
