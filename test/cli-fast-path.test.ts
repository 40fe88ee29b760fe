/**
 * The CLI's fast path (src/cli/fast-path.ts + hot-run.ts): plain status / session info / send / logs
 * command lines skip commander and go straight to the orchestrator.
 *
 * - Parity: every command line the shortcut takes means exactly what the full program
 *   (argv pre-pass + commander) makes of it; anything else is left to the program.
 * - End to end: with an orchestrator running, those commands answer without loading the
 *   program (dist/program.mjs), observed with a module-loader hook; with none running, the
 *   same command lines still work (the program starts one).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareArgv } from '../src/cli/argv.js';
import { registerDriveCommands } from '../src/cli/drive-commands.js';
import { recogniseHot, type HotCommand } from '../src/cli/fast-path.js';
import { registerSessionCommands } from '../src/cli/session-commands.js';
import { createWorld, demoProject, waitFor, type World } from './helpers/cli.js';

/** What the full program makes of a command line, in HotCommand's terms (undefined: no hot command). */
function programReading(argv: string[]): HotCommand | undefined {
  const program = new Command('ennio').option('-c, --config <path>').option('--json').option('--no-server').enablePositionalOptions().exitOverride();
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerSessionCommands(program, () => ({ json: false }));
  registerDriveCommands(program, () => ({ json: false }));
  let seen: HotCommand | undefined;
  const prepared = prepareArgv(program, argv);
  const common = (): { json: boolean; config?: string } => {
    const o = program.opts<{ config?: string; server?: boolean }>();
    return { json: prepared.json, ...(o.config !== undefined ? { config: o.config } : {}) };
  };
  const byName = (parent: Command, name: string): Command => parent.commands.find((c) => c.name() === name)!;
  byName(program, 'status').action((project?: string) => {
    seen = { kind: 'list', ...(project !== undefined ? { project } : {}), ...common() };
  });
  byName(byName(program, 'session'), 'list').action((project?: string) => {
    seen = { kind: 'list', ...(project !== undefined ? { project } : {}), ...common() };
  });
  byName(byName(program, 'session'), 'info').action((id: string) => {
    seen = { kind: 'info', id, ...common() };
  });
  byName(program, 'send').action((id: string, words: string[], opts: { file?: string }) => {
    if (opts.file === undefined && words.length > 0) seen = { kind: 'send', id, words, ...common() };
  });
  byName(program, 'logs').action((id: string, opts: { lines: string; follow?: boolean }) => {
    if (!opts.follow) seen = { kind: 'logs', id, lines: opts.lines, ...common() };
  });
  try {
    program.parse(prepared.args, { from: 'user' });
  } catch {
    return undefined; // commander refused it (help, unknown option): the shortcut must not take it
  }
  return program.opts<{ server?: boolean }>().server === false ? undefined : seen;
}

const CORPUS: string[][] = [
  ['status'], ['status', '--json'], ['--json', 'status'], ['status', 'app'], ['status', 'app', '--json'], ['status', '-c', 'e.yaml'],
  ['-c', 'e.yaml', 'status', 'app'], ['--config=e.yaml', 'status'], ['--config', 'e.yaml', '--json', 'status'], ['status', 'a', 'b'],
  ['status', '--help'], ['status', '--no-server'], ['--no-server', 'status'], ['status', '--bogus'], ['status', '-c'],
  ['session', 'list'], ['session', 'ls', 'app', '--json'], ['session', 'list', '-c', 'x.yaml'], ['session'], ['session', 'info', 'x'], ['session', 'info', 'x', '--json'], ['-c', 'e.yaml', 'session', 'info'], ['session', 'info', 'a', 'b'],
  ['session', 'info', '--help'], ['session', 'kill', 'x'],
  ['send', 'id', 'hello'], ['send', 'id', 'hello', 'world'], ['send', '--json', 'id', 'hi'], ['--json', 'send', 'id', 'hi'],
  ['send', 'id', '--json', 'hi'], ['send', 'id', '--', '--help'], ['send', 'id', 'a', '--', 'b'], ['send', 'id', '-n', '5'],
  ['send', 'id', '--file=/etc/passwd'], ['send', '-c', 'e.yaml', 'id', 'x'], ['send', 'id'], ['send'], ['send', '-f', 'm.txt', 'id'],
  ['send', '--', 'id', 'x'], ['send', 'id', '-c', 'x'], ['send', 'id', ''], ['-c', 'a.yaml', 'send', '-c', 'b.yaml', 'id', 'x'],
  ['logs', 'id'], ['logs', 'id', '-n', '5'], ['logs', '-n', '5', 'id'], ['logs', 'id', '--lines', '7', '--json'], ['logs', 'id', '-f'],
  ['logs', 'id', '-n', 'abc'], ['logs'], ['logs', 'a', 'b'], ['logs', 'id', '-c', 'e.yaml'], ['logs', '--json', 'id', '-n', '0'],
  ['spawn', 'app'], ['--version'], ['-V'], ['--help'], [], ['wait', 'x'],
];

describe('fast path: the command lines it takes', () => {
  it.each(CORPUS.map((argv) => [argv]))('%j means what the program makes of it', (argv) => {
    const hot = recogniseHot(argv, {});
    if (hot !== undefined) expect(hot).toEqual(programReading(argv));
  });

  it('takes the plain forms people type', () => {
    expect(recogniseHot(['status'], {})).toEqual({ kind: 'list', json: false });
    expect(recogniseHot(['send', 'app-1', 'fix', 'it'], {})).toEqual({ kind: 'send', id: 'app-1', words: ['fix', 'it'], json: false });
    expect(recogniseHot(['logs', 'app-1', '-n', '5', '--json'], {})).toEqual({ kind: 'logs', id: 'app-1', lines: '5', json: true });
    expect(recogniseHot(['-c', 'e.yaml', 'session', 'ls', 'app'], {})).toEqual({ kind: 'list', project: 'app', json: false, config: 'e.yaml' });
  });

  it('leaves to the program: in-process runs, help, stdin messages, follow, unknown options', () => {
    expect(recogniseHot(['status'], { ENNIO_NO_SERVER: '1' })).toBeUndefined();
    for (const argv of [['--no-server', 'status'], ['status', '--help'], ['send', 'id'], ['send', '-f', 'm', 'id'], ['logs', 'id', '-f'], ['status', '--bogus'], ['--version']]) {
      expect(recogniseHot(argv, {}), JSON.stringify(argv)).toBeUndefined();
    }
  });
});

describe('fast path end to end', () => {
  let w: World;
  let id: string;
  let loadLog: string;
  let hookEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    w = createWorld();
    w.makeRepo();
    w.writeConfig(demoProject());
    // Records every module the ES loader resolves in a CLI process (dist/program.mjs and its
    // chunks are ES modules); not in an orchestrator (`start --foreground`) a command starts.
    loadLog = join(w.dir, 'loaded.txt');
    const hooks = join(w.dir, 'hooks.mjs');
    writeFileSync(hooks, `import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); if (!process.argv.includes('--foreground')) appendFileSync(${JSON.stringify(loadLog)}, r.url + '\\n'); return r; }\n`);
    const register = join(w.dir, 'register.mjs');
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    hookEnv = { ENNIO_NO_SERVER: '', NODE_OPTIONS: `--import=${pathToFileURL(register).href}` };
    const res = w.run(['spawn', 'app', '--json'], { env: { ENNIO_NO_SERVER: '' } }); // starts the orchestrator
    expect(res.stderr).toBe('');
    id = (JSON.parse(res.stdout) as { id: string }).id;
    await waitFor(() => w.run(['logs', id], { env: { ENNIO_NO_SERVER: '' } }).stdout.includes('demo-agent ready'), 'the agent to be ready');
  });

  afterAll(() => w?.cleanup());

  const loadsOf = (args: string[]): { code: number; stdout: string; stderr: string; loaded: string } => {
    writeFileSync(loadLog, '');
    const res = w.run(args, { env: hookEnv });
    return { ...res, loaded: readFileSync(loadLog, 'utf8') };
  };

  it('answers status, session info, send and logs without loading the program', async () => {
    const status = loadsOf(['status', '--json']);
    expect(status.code).toBe(0);
    expect((JSON.parse(status.stdout) as Array<{ id: string }>).map((s) => s.id)).toEqual([id]);
    expect(status.loaded).not.toContain('program.mjs');
    // Rendered by the orchestrator (wire.ts, PRINT_HEADER): the program's printJson, byte for byte in form.
    expect(status.stdout).toBe(`${JSON.stringify(JSON.parse(status.stdout), null, 2)}\n`);
    const local = w.run(['--no-server', 'status', '--json']);
    const shape = (out: string): Array<[string, string[]]> => (JSON.parse(out) as Array<Record<string, unknown>>).map((s) => [s['id'] as string, Object.keys(s)]);
    expect(shape(status.stdout)).toEqual(shape(local.stdout));

    const send = loadsOf(['send', id, 'fast', 'path', 'ping']);
    expect(send).toMatchObject({ code: 0, stdout: `sent 14 bytes to ${id}\n` });
    expect(send.loaded).not.toContain('program.mjs');
    await waitFor(() => w.run(['logs', id]).stdout.includes('fast path ping'), 'the agent to echo the message');

    const logs = loadsOf(['logs', id, '-n', '3']);
    expect(logs.code).toBe(0);
    expect(logs.loaded).not.toContain('program.mjs');

    const info = loadsOf(['session', 'info', id]);
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(new RegExp(`^id +${id}$`, "m"));
    expect(info.loaded).not.toContain('program.mjs');

    // A command it does not take goes to the program, and the hook sees it load.
    const server = loadsOf(['server', 'status']);
    expect(server.code).toBe(0);
    expect(server.loaded).toContain('program.mjs');
  });

  it('gives the program\'s error text and exit code', () => {
    const fast = loadsOf(['send', 'nope-1', 'hi']);
    const full = w.run(['--no-server', 'send', 'nope-1', 'hi']);
    expect(fast.loaded).not.toContain('program.mjs');
    expect(fast).toMatchObject({ code: full.code, stdout: full.stdout, stderr: full.stderr });
    expect(fast.code).toBe(3);
    const json = loadsOf(['logs', 'nope-1', '--json']);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'UNKNOWN_SESSION' } });
  });

  it('still works when no orchestrator runs: the program starts one', () => {
    expect(w.run(['stop'], { env: { ENNIO_NO_SERVER: '' } }).code).toBe(0);
    const res = loadsOf(['status', '--json']);
    expect(res.code).toBe(0);
    expect(res.loaded).toContain('program.mjs');
    expect((JSON.parse(res.stdout) as Array<{ id: string }>).map((s) => s.id)).toEqual([id]);
    // Started by that command: the next one is fast again.
    expect(loadsOf(['status']).loaded).not.toContain('program.mjs');
  });
});
