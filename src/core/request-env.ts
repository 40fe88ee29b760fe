/**
 * The scope an operation runs in. In the CLI that is the process itself; inside the
 * orchestrator it is one request: the environment of the shell that sent it (carried over
 * the socket), so `${VAR}`s, agents and the tmux server a request starts never see the
 * environment the orchestrator was started with; and the request's abort signal, which
 * stands in for the Ctrl-C that the client's terminal sent to the client, not to us.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export type Env = Record<string, string | undefined>;

interface Scope {
  env: Env;
  signal?: AbortSignal;
}

const storage = new AsyncLocalStorage<Scope>();

/** The environment of the operation in progress (process.env outside any request). */
export function currentEnv(): Env {
  return storage.getStore()?.env ?? process.env;
}

/** The abort signal of the request in progress; undefined in the CLI (it has real signals). */
export function currentAbortSignal(): AbortSignal | undefined {
  return storage.getStore()?.signal;
}

/** Run `fn` (and everything it awaits) with `env` as its environment. */
export function withEnv<T>(env: Env, fn: () => T, signal?: AbortSignal): T {
  return storage.run(signal ? { env, signal } : { env }, fn);
}

/** A copy without unset entries, ready for child_process. */
export function definedEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
