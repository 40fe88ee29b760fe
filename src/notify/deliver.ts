/**
 * Sending a notification: a command (argv, the JSON on stdin, no shell), a webhook (POST
 * JSON, retried with capped backoff) and notify-send when there is a desktop. Failures are
 * logged, never thrown: a notification must not disturb the orchestrator.
 */
import { spawn } from 'node:child_process';
import type { NotificationRule } from '../config/schema.js';
import { definedEnv, type Env } from '../core/request-env.js';
import { headline, type Notice } from './events.js';

export interface DeliveryLog {
  warn(message: string, fields?: Record<string, unknown>): void;
}

const COMMAND_TIMEOUT_MS = 30_000;
const WEBHOOK_TIMEOUT_MS = 10_000;
/** Delays before each retry (±20 %): 1, 2, 4, 8 s, then give up. */
const WEBHOOK_RETRIES_MS = [1000, 2000, 4000, 8000];

function run(argv: readonly string[], input: string, env: Env): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: definedEnv(env), stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), COMMAND_TIMEOUT_MS);
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stderr: err.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
    child.stdin.on('error', () => {}); // a command that ignores its stdin is fine
    child.stdin.end(input);
  });
}

/** Only scheme and host in logs: a webhook's path or query often holds its secret. */
const originOf = (url: string): string => new URL(url).origin;

async function postWithRetries(url: string, body: string, log: DeliveryLog): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    let why: string;
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS) });
      await res.arrayBuffer().catch(() => undefined);
      // 4xx other than 408/429 will not get better by asking again.
      if (res.ok) return;
      why = `HTTP ${res.status}`;
      if (res.status < 500 && res.status !== 408 && res.status !== 429) return log.warn('webhook refused the notification', { to: originOf(url), why });
    } catch (err) {
      why = err instanceof Error ? err.message : String(err);
    }
    const delay = WEBHOOK_RETRIES_MS[attempt];
    if (delay === undefined) return log.warn('webhook failed, giving up', { to: originOf(url), why, attempts: attempt + 1 });
    await new Promise((r) => setTimeout(r, delay * (0.8 + Math.random() * 0.4)));
  }
}

function hasDesktop(env: Env): boolean {
  return Boolean(env['DISPLAY'] || env['WAYLAND_DISPLAY']);
}

export async function deliver(rule: NotificationRule, notice: Notice, env: Env, log: DeliveryLog): Promise<void> {
  const json = `${JSON.stringify(notice)}\n`;
  const jobs: Array<Promise<void>> = [];
  if (rule.command) {
    jobs.push(
      run(rule.command, json, env).then(({ code, stderr }) => {
        if (code !== 0) log.warn('notification command failed', { command: rule.command?.[0], code, stderr: stderr.trim() });
      }),
    );
  }
  if (rule.webhook) jobs.push(postWithRetries(rule.webhook, json, log));
  const desktop = rule.desktop ?? (!rule.command && !rule.webhook);
  if (desktop && hasDesktop(env)) {
    const { title, body } = headline(notice);
    jobs.push(
      run(['notify-send', '--app-name=ennio', title, body], '', env).then(({ code, stderr }) => {
        if (code !== 0) log.warn('notify-send failed', { code, stderr: stderr.trim() });
      }),
    );
  }
  await Promise.all(jobs);
}
