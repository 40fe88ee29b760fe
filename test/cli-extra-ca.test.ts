/**
 * The `ennio` entry starts Node without the caller's NODE_EXTRA_CA_CERTS (its shebang; Node
 * would parse every certificate in it before our first line) and puts the value back at once
 * (src/cli/caller-env.ts). Observable: Node warns on stderr when it loads a NODE_EXTRA_CA_CERTS
 * that does not exist, so a missing file tells whether a process loaded it.
 * - the CLI run as a program (shebang) does not load it; run with `node` it does (control);
 * - the orchestrator it starts, and the agents it spawns, see the caller's exact value;
 * - `ennio start` in the foreground (webhooks use TLS) runs with the certificates loaded.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, createWorld, waitFor, type World } from './helpers/cli.js';

const WARNING = 'Ignoring extra certs from';
let w: World;
let missing: string;

beforeAll(() => {
  w = createWorld();
  missing = join(w.dir, 'no such dir', 'ca.pem'); // a space: the shebang must pass it through whole
  const repo = w.makeRepo();
  mkdirSync(join(w.dir, 'caller'));
  writeFileSync(join(w.dir, 'ennio.yaml'), [
    'projects:',
    '  - name: app',
    `    path: ${repo}`,
    '    agent: custom',
    '    agent_config:',
    `      command: 'echo "ca=[$NODE_EXTRA_CA_CERTS] mark=[$\${ENNIO_CALLER_EXTRA_CA_CERTS-unset}]"; exec sleep 600'`,
    '',
  ].join('\n'));
});
afterAll(() => w.cleanup());

/** The CLI as a shell runs it: the file itself, through its shebang. */
function ennio(args: string[], env: NodeJS.ProcessEnv = {}): { code: number; stdout: string; stderr: string } {
  const res = spawnSync(CLI, args, { cwd: w.dir, env: { ...w.env, NODE_EXTRA_CA_CERTS: missing, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}

describe('NODE_EXTRA_CA_CERTS', () => {
  it('is not loaded by the CLI run through its shebang, and is loaded when run with node (control)', () => {
    const direct = ennio(['--version']);
    expect(direct.code).toBe(0);
    expect(direct.stderr).not.toContain(WARNING);
    const control = spawnSync(process.execPath, [CLI, '--version'], { env: { ...w.env, NODE_EXTRA_CA_CERTS: missing }, encoding: 'utf8' });
    expect(control.status).toBe(0);
    expect(control.stderr).toContain(WARNING);
  });

  it("reaches the agent exactly as the caller had it, through the orchestrator and in-process", async () => {
    for (const mode of [{ ENNIO_NO_SERVER: '' }, { ENNIO_NO_SERVER: '1' }]) {
      const spawned = ennio(['spawn', 'app', '--json'], mode);
      expect(spawned.stderr).toBe('');
      expect(spawned.code).toBe(0);
      const id = (JSON.parse(spawned.stdout) as { id: string }).id;
      await waitFor(() => ennio(['logs', id], mode).stdout.includes(`ca=[${missing}] mark=[unset]`), `the agent (${JSON.stringify(mode)}) to print the caller's value`);
      expect(ennio(['session', 'kill', id], mode).code).toBe(0);
    }
    // The orchestrator the first command started loaded the certificates itself.
    expect(readFileSync(join(w.home, 'logs', 'server.log'), 'utf8')).toContain(WARNING);
    expect(ennio(['stop']).code).toBe(0);
  });

  it('is loaded by `ennio start` in the foreground, which stops cleanly on SIGTERM', async () => {
    const child = spawn(CLI, ['start'], { cwd: w.dir, env: { ...w.env, ENNIO_NO_SERVER: '', NODE_EXTRA_CA_CERTS: missing }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(() => /"running":\s*true/.test(ennio(['server', 'status', '--json'], { ENNIO_NO_SERVER: '' }).stdout), 'the foreground orchestrator to answer');
      expect(out).toContain(WARNING);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
