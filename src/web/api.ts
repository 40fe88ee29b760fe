/** Calls to the orchestrator's API from the dashboard: same origin, the session cookie, JSON in and out. */
import type { WireError } from '../api/contract.js';

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export async function api<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 401) {
    location.assign('/login');
    throw new ApiError('UNAUTHORIZED', 'signed out');
  }
  const value = (await res.json().catch(() => ({}))) as { error?: WireError };
  if (!res.ok) {
    const e = value.error ?? { code: 'INTERNAL', message: `HTTP ${res.status}` };
    throw new ApiError(e.code, e.message, e.hint);
  }
  return value as T;
}

export const sessionPath = (id: string): string => `/api/v1/sessions/${encodeURIComponent(id)}`;
