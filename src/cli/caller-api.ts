/**
 * The orchestrator's HTTP client for this CLI process: this shell's cwd, environment and
 * config, this build. Light (no AsyncLocalStorage, no child_process): the fast path uses it too.
 */
import { HttpApi } from '../api/http-client.js';
import { ennioHome, serverSocketPath } from '../core/home.js';
import { silentSink, stderrSink } from '../core/progress-sinks.js';
import { BUILD } from '../core/version.js';
import type { GlobalOptions } from './context.js';

export function callerHttpApi(g: GlobalOptions): HttpApi {
  return new HttpApi({
    socket: serverSocketPath(ennioHome(process.env)),
    build: BUILD,
    caller: { cwd: process.cwd(), env: { ...process.env }, ...(g.config ? { config: g.config } : {}) },
    // --json output is for programs: no "waiting for…" lines, not even on stderr.
    onProgress: g.json ? silentSink : stderrSink,
  });
}
