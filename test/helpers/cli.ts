/**
 * Drives the built CLI (dist/cli.js) in an isolated world: its own ENNIO_HOME, its own
 * tmux server (ENNIO_TMUX_SOCKET), temp git repos. cleanup() kills the tmux server and
 * removes every directory, also when a test failed.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { killTmuxServer } from './tmux-server.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli.js');
export const DEMO_AGENT = join(ROOT, 'dist/demo-agent.cjs');
/** Whether this run drives the CLI through the orchestrator (see vitest.config.ts). */
export const SERVER_MODE = process.env['ENNIO_TEST_SERVER'] === '1';

/** The pid of the orchestrator serving a world's ENNIO_HOME (server mode), from its server.json. */
export function orchestratorPid(home: string): number {
  return (JSON.parse(readFileSync(join(home, 'server.json'), 'utf8')) as { pid: number }).pid;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface World {
  dir: string;
  home: string;
  socket: string;
  env: NodeJS.ProcessEnv;
  run(args: string[], options?: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv }): RunResult;
  /** Start the CLI without waiting (for logs -f). */
  start(args: string[]): ReturnType<typeof spawn>;
  tmux(...args: string[]): RunResult;
  makeRepo(name?: string): string;
  writeConfig(yaml: string): string;
  cleanup(): void;
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid', ...args], { cwd, encoding: 'utf8' }).trim();
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function createWorld(): World {
  const dir = mkdtempSync(join(tmpdir(), 'ennio-test-'));
  const home = join(dir, 'home');
  const socket = `ennio-test-${randomBytes(4).toString('hex')}`;
  const env: NodeJS.ProcessEnv = { ...process.env, ENNIO_HOME: home, ENNIO_TMUX_SOCKET: socket, NO_COLOR: '1' };
  delete env['ENNIO_CONFIG'];
  // The same e2e tests run in both modes (vitest project "server" sets ENNIO_TEST_SERVER=1):
  // in-process, or through an orchestrator that the first command starts in the background.
  if (SERVER_MODE) delete env['ENNIO_NO_SERVER'];
  else env['ENNIO_NO_SERVER'] = '1';
  const world: World = {
    dir,
    home,
    socket,
    env,
    run(args, options = {}) {
      const res = spawnSync(process.execPath, [CLI, ...args], {
        cwd: options.cwd ?? dir,
        env: { ...env, ...options.env },
        input: options.input ?? '',
        encoding: 'utf8',
        timeout: 150_000, // generous: a loaded 2-core machine can take long, and a killed command leaves work half-done
      });
      return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
    },
    start(args) {
      return spawn(process.execPath, [CLI, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    },
    tmux(...args) {
      const res = spawnSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
      return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
    },
    makeRepo(name = 'repo') {
      const repo = join(dir, name);
      mkdirSync(repo, { recursive: true });
      git(repo, 'init', '--quiet', '--initial-branch=main');
      writeFileSync(join(repo, 'README.md'), '# test repo\n');
      writeFileSync(join(repo, '.env.shared'), 'SECRET_FROM_MAIN=1\n');
      git(repo, 'add', '.');
      git(repo, 'commit', '--quiet', '-m', 'init');
      return repo;
    },
    writeConfig(yaml) {
      const path = join(dir, 'ennio.yaml');
      writeFileSync(path, yaml);
      return path;
    },
    cleanup() {
      // The orchestrator a command started for this world (none in-process mode: harmless).
      spawnSync(process.execPath, [CLI, 'stop'], { cwd: dir, env: { ...env, ENNIO_NO_SERVER: '' }, timeout: 60_000 });
      killTmuxServer(socket);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** A config with one local project running the demo agent (what most tests need). */
export function demoProject(extra = '', name = 'app'): string {
  return [
    'projects:',
    `  - name: ${name}`,
    '    path: ./repo',
    '    agent: custom',
    '    agent_config:',
    `      command: ${JSON.stringify(`node ${DEMO_AGENT}`)}`,
    '    post_create:',
    '      - git config user.name t && git config user.email t@t.invalid',
    extra,
    '',
  ].join('\n');
}

/** Poll until `check` returns a value (no timing assertions: a generous cap only). */
export async function waitFor<T>(check: () => T | undefined | false, what: string, limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
