/** start, stop, server status, api schema: the orchestrator's own commands. */
import type { Command } from 'commander';
import { EnnioError } from '../core/errors.js';
import type { GlobalOptions } from './context.js';
import { extraCaSkipped } from './caller-env.js';
import { printJson } from './output.js';
import { homeAndSocket, socketAccepts, startDetached, stopServer } from './server-link.js';
import { request } from 'node:http';

function getJson(socket: string, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(JSON.parse(body) as unknown));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The orchestrator makes TLS calls (webhooks), so it needs the caller's NODE_EXTRA_CA_CERTS,
 * which the `ennio` entry skipped at start-up (caller-env.ts): run it as a child that loads
 * them. The terminal's Ctrl-C reaches the child itself (same process group).
 */
async function rerunWithCertificates(): Promise<void> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, process.argv.slice(1), { stdio: 'inherit', env: process.env });
  const forward = (signal: NodeJS.Signals) => (): void => void child.kill(signal);
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
  process.on('SIGTERM', forward('SIGTERM'));
  const code = await new Promise<number>((resolve) => child.once('exit', (c, sig) => resolve(c ?? (sig === 'SIGINT' ? 130 : 1))));
  process.exit(code);
}

async function runForeground(g: GlobalOptions): Promise<void> {
  if (extraCaSkipped()) return rerunWithCertificates();
  const [{ runServer }, { jsonLogger }, { ennioHome }, { readFileSync }, { scrubSecrets }, { discoverConfig }] = await Promise.all([
    import('../server/server.js'), import('../server/log.js'), import('../core/home.js'), import('node:fs'),
    import('../config/secret-env.js'), import('../config/discover.js'),
  ]);
  const log = jsonLogger((line) => process.stdout.write(line));
  const caller = { cwd: process.cwd(), env: { ...process.env }, ...(g.config ? { config: g.config } : {}) };
  // Our own environment keeps no secrets; requests run with their callers' environments.
  try {
    scrubSecrets(process.env, readFileSync(discoverConfig({ cwd: process.cwd(), ...(g.config ? { explicit: g.config } : {}) }), 'utf8'));
  } catch {
    /* no config here: nothing to scrub */
  }
  const server = await runServer({ home: ennioHome(process.env), caller, log });
  const onSignal = (): void => void server.stop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', () => {}); // a closed terminal does not stop it
  await server.stopped;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

export function registerServerCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('start')
    .description('run the orchestrator: API on a Unix socket and TCP port, warm connections, session sweeps')
    .option('-d, --detach', 'run it in the background')
    .option('--foreground', 'run in the foreground (default)')
    .action(async (opts: { detach?: boolean }) => {
      const g = globals();
      const { socket } = homeAndSocket();
      if (await socketAccepts(socket)) {
        const s = (await getJson(socket, '/api/v1/server')) as { pid: number; socket: string };
        throw new EnnioError('SESSION_STATE', `an orchestrator already runs (pid ${s.pid}, socket ${s.socket})`, { hint: 'stop it with `ennio stop`' });
      }
      if (!opts.detach) return runForeground(g);
      await startDetached(g.config);
      const s = (await getJson(socket, '/api/v1/server')) as { pid: number; socket: string; port: number | string };
      if (g.json) printJson(s);
      else process.stdout.write(`orchestrator started (pid ${s.pid}, socket ${s.socket}, port ${s.port})\n`);
    });

  program
    .command('stop')
    .description('stop the orchestrator (sessions keep running)')
    .action(async () => {
      const stopped = await stopServer();
      if (globals().json) printJson({ stopped });
      else process.stdout.write(stopped ? 'orchestrator stopped\n' : 'no orchestrator was running\n');
    });

  const server = program.command('server').description('the orchestrator');
  server
    .command('status')
    .description('pid, version, uptime, socket, port, hosts, sessions watched, last sweep')
    .action(async () => {
      const { socket } = homeAndSocket();
      if (!(await socketAccepts(socket))) {
        if (globals().json) return printJson({ running: false, socket });
        process.stdout.write(`no orchestrator is running (socket ${socket}); the next command starts one, or run \`ennio start\`\n`);
        return;
      }
      const s = (await getJson(socket, '/api/v1/server')) as Record<string, unknown> & { hosts: Array<{ host: string; state: string }> };
      if (globals().json) return printJson({ running: true, ...s });
      const rows: Array<[string, string]> = [
        ['pid', String(s['pid'])], ['version', `${String(s['version'])} (build ${String(s['build'])})`], ['uptime', `${String(s['uptime_s'])} s`],
        ['socket', String(s['socket'])], ['port', String(s['port'])], ['configs', (s['configs'] as string[]).join(', ') || '-'],
        ['hosts', s.hosts.map((h) => `${h.host} ${h.state}`).join(', ') || '-'], ['sessions watched', String(s['sessions_watched'])],
        ['last sweep', s['last_sweep'] ? `${String(s['last_sweep'])} (${String(s['last_sweep_ms'])} ms)` : 'not yet'],
        ['sweep interval', `${Number(s['sweep_interval_ms']) / 1000} s`],
      ];
      const w = Math.max(...rows.map(([k]) => k.length));
      process.stdout.write(rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n') + '\n');
    });

  program
    .command('api')
    .description('the HTTP API')
    .command('schema')
    .description('print the OpenAPI document of the API')
    .action(async () => {
      const { openApiDocument } = await import('../api/openapi.js');
      printJson(openApiDocument());
    });
}
