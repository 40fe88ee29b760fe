/** Small formatting helpers for the dashboard. */
import type { SessionJson } from '../api/contract.js';

/** "42s", "3m", "5h", "2d" since an ISO time. */
export function age(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function uptime(seconds: number): string {
  return age(new Date(Date.now() - seconds * 1000).toISOString());
}

/** The session's activity (working, waiting_input, idle…) when the orchestrator detects it. */
export function activityOf(s: SessionJson): string | undefined {
  const a = s['activity'];
  if (typeof a === 'string') return a;
  if (a && typeof a === 'object' && typeof (a as { state?: unknown }).state === 'string') return (a as { state: string }).state;
  return undefined;
}

export function activitySince(s: SessionJson): string | undefined {
  const since = s['activity_since'];
  return typeof since === 'string' ? since : undefined;
}

/** It needs you: a question or a permission prompt. */
export function waitingForYou(s: SessionJson): boolean {
  return s.status === 'running' && activityOf(s) === 'waiting_input';
}

export function activityLabel(s: SessionJson): string {
  const a = activityOf(s);
  if (!a) return '';
  const since = activitySince(s);
  const word = a === 'waiting_input' ? 'waiting' : a;
  return since ? `${word} ${age(since)}` : word;
}
