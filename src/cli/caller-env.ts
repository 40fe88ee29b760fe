/**
 * Undoes what the `ennio` entry's shebang did to NODE_EXTRA_CA_CERTS (see scripts/build.mjs).
 *
 * Node reads and parses every certificate of NODE_EXTRA_CA_CERTS at start-up, before any of
 * our code runs: ~35 ms per command for a system bundle, which many machines point it at.
 * A CLI command talks to the orchestrator over a Unix socket and never uses TLS, so the
 * shebang starts Node with the variable empty and the caller's value in
 * ENNIO_CALLER_EXTRA_CA_CERTS. Here, before anything reads the environment, the caller's
 * value is put back: the orchestrator this command starts, the agents it spawns and the
 * environment it sends over the socket all see exactly the caller's environment.
 * The one command that makes TLS calls in its own process (`ennio start` in the foreground:
 * webhooks) re-runs itself with the certificates loaded (extraCaSkipped()).
 */
const MARK = 'ENNIO_CALLER_EXTRA_CA_CERTS';
const SKIPPED = Symbol.for('ennio.extraCaSkipped');

const saved = process.env[MARK];
if (saved !== undefined) {
  delete process.env[MARK];
  if (saved) process.env['NODE_EXTRA_CA_CERTS'] = saved;
  else delete process.env['NODE_EXTRA_CA_CERTS'];
  // program.mjs is a separate bundle: the flag lives on globalThis, not in module state.
  (globalThis as Record<symbol, unknown>)[SKIPPED] = saved !== '';
}

/** Whether this process started without the caller's NODE_EXTRA_CA_CERTS loaded. */
export function extraCaSkipped(): boolean {
  return (globalThis as Record<symbol, unknown>)[SKIPPED] === true;
}
