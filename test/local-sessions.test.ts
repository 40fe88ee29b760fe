/** Spawn → status → send → logs → kill → restore → cleanup, on real git and a real tmux server. */
import { existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, demoProject, git, sha256, waitFor, type World } from './helpers/cli.js';

let w: World;

interface Session { id: string; status: string; branch: string; workspace_path: string; runtime_name: string }
const sessions = (): Session[] => JSON.parse(w.run(['session', 'list', '--json']).stdout) as Session[];
const statusOf = (id: string): string | undefined => sessions().find((s) => s.id === id)?.status;
const logs = (id: string, n = 200): string => w.run(['logs', id, '-n', String(n)]).stdout;

function spawnOk(args: string[]): Session {
  const res = w.run(['spawn', 'app', '--json', ...args]);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  return JSON.parse(res.stdout) as Session;
}

beforeAll(() => {
  w = createWorld();
  w.makeRepo();
  w.writeConfig(demoProject([
    '    symlinks:',
    '      - { source: .env.shared, target: .env }',
    '    post_create:',
    '      - git config user.name t && git config user.email t@t.invalid',
    '      - echo "prepared for $ENNIO_SESSION_ID" > .prepared',
  ].join('\n')).replace(/    post_create:\n      - git config user.name t && git config user.email t@t.invalid\n(?=    symlinks)/, ''));
});
afterAll(() => w.cleanup());

describe('spawn', () => {
  it('creates a worktree on a new branch, symlinks, post_create, tmux session with env, and types the prompt', async () => {
    const prompt = 'Fix the "login" bug; don\'t run $(rm -rf /) or `id`';
    const s = spawnOk(['--prompt', prompt, '--issue', 'GH-7']);
    expect(s.id).toMatch(/^app-[a-z0-9]{6}$/);
    expect(s.branch).toBe(`ennio/${s.id}`);
    expect(git(join(w.dir, 'repo'), 'branch', '--list', s.branch)).toContain(s.branch);
    expect(git(s.workspace_path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(s.branch);
    expect(readlinkSync(join(s.workspace_path, '.env'))).toBe(join(w.dir, 'repo', '.env.shared'));
    expect(readFileSync(join(s.workspace_path, '.prepared'), 'utf8')).toBe(`prepared for ${s.id}\n`);
    const env = w.tmux('show-environment', '-t', `=${s.id}`).stdout;
    expect(env).toContain(`ENNIO_SESSION_ID=${s.id}`);
    expect(env).toContain('ENNIO_PROJECT=app');
    expect(env).toContain(`ENNIO_WORKSPACE=${s.workspace_path}`);
    expect(env).toContain('ENNIO_ISSUE=GH-7');
    const out = await waitFor(() => /message #1: .*sha256 (\w+)/.exec(logs(s.id)) ?? undefined, 'the prompt to arrive');
    expect(out[1]).toBe(sha256(prompt));
    expect(statusOf(s.id)).toBe('running');
    expect(w.run(['session', 'kill', s.id]).code).toBe(0);
  });

  it('accepts a hostile --branch verbatim and never executes it', () => {
    const branch = 'feat/$(touch${IFS}PWN)`touch${IFS}PWN2`;q"\'é中';
    const s = spawnOk(['--branch', branch]);
    expect(s.branch).toBe(branch);
    expect(git(s.workspace_path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(branch);
    for (const f of ['PWN', 'PWN2']) {
      expect(existsSync(join(w.dir, f))).toBe(false);
      expect(existsSync(join(s.workspace_path, f))).toBe(false);
    }
    expect(w.run(['session', 'kill', s.id]).code).toBe(0);
  });

  it('takes option values that look like options as text (-p --json, -p --help, -i -n)', async () => {
    const s = spawnOk(['--prompt', '--json', '--issue', '-n']);
    const env = w.tmux('show-environment', '-t', `=${s.id}`).stdout;
    expect(env).toContain('ENNIO_ISSUE=-n');
    await waitFor(() => logs(s.id).includes(`sha256 ${sha256('--json')}`), 'the prompt --json to arrive');
    expect(w.run(['session', 'kill', s.id]).code).toBe(0);
    const t = spawnOk(['-p', '--help']);
    await waitFor(() => logs(t.id).includes(`sha256 ${sha256('--help')}`), 'the prompt --help to arrive');
    expect(w.run(['session', 'kill', t.id]).code).toBe(0);
  });

  it('makes a clone workspace when the project asks for one', () => {
    const cfg = readFileSync(join(w.dir, 'ennio.yaml'), 'utf8');
    const clonePath = join(w.dir, 'clone.yaml');
    writeFileSync(clonePath, cfg.replace('    path: ./repo', `    path: ./repo\n    repo: ${join(w.dir, 'repo')}\n    workspace: clone`));
    const res = w.run(['-c', clonePath, 'spawn', 'app', '--json']);
    expect(res.code).toBe(0);
    const s = JSON.parse(res.stdout) as Session;
    expect(existsSync(join(s.workspace_path, '.git'))).toBe(true); // a directory: a real clone, not a worktree link file
    expect(git(s.workspace_path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(s.branch);
    expect(w.run(['-c', clonePath, 'session', 'kill', s.id]).code).toBe(0);
    expect(existsSync(s.workspace_path)).toBe(false);
  });
});

describe('driving a session', () => {
  let s: Session;
  beforeAll(async () => {
    s = spawnOk([]);
    await waitFor(() => logs(s.id).includes('demo-agent ready'), 'the agent to start');
  });

  it.each([
    ['quotes and substitutions', `it's "quoted" $(touch PWN) \`touch PWN\` $HOME \${X}`],
    ['a trailing semicolon', 'run this; and that;'],
    ['non-ASCII', 'héllo wörld — 中文 ✓ 🚀'],
    ['a multi-line message', 'line one\nline two; $(touch PWN)\n\n  indented line four'],
    ['a 10 kB message', Array.from({ length: 160 }, (_, i) => `line ${i}: ${'x'.repeat(58)}`).join('\n')],
    // More than a canonical-mode terminal holds per line: the demo agent reads raw, so it all arrives.
    ['a 12 kB single line', `one line ${'y'.repeat(12_000)} end`],
  ])('sends %s intact and submits it', async (_label, message) => {
    const before = (logs(s.id).match(/message #/g) ?? []).length;
    const res = w.run(['send', s.id, message]);
    expect(res.code).toBe(0);
    const shas = await waitFor(() => {
      const all = [...logs(s.id, 2000).matchAll(/message #\d+: .*sha256 (\w+)/g)].map((m) => m[1]);
      return all.length > before && all;
    }, 'the answer');
    expect(shas.at(-1)).toBe(sha256(message));
    expect(existsSync(join(s.workspace_path, 'PWN'))).toBe(false);
    expect(existsSync(join(w.dir, 'PWN'))).toBe(false);
  });

  it('sends from --file and from stdin', async () => {
    const file = join(w.dir, 'msg.txt');
    writeFileSync(file, 'from a file\nsecond line');
    expect(w.run(['send', '--file', file, s.id]).code).toBe(0);
    await waitFor(() => logs(s.id, 2000).includes(sha256('from a file\nsecond line')), 'file message');
    expect(w.run(['send', s.id], { input: 'from stdin' }).code).toBe(0);
    await waitFor(() => logs(s.id, 2000).includes(sha256('from stdin')), 'stdin message');
  });

  /** Sends, then returns the sha256 of the next message the agent answered. */
  async function nextAnswer(args: string[], input?: string): Promise<string | undefined> {
    const before = [...logs(s.id, 2000).matchAll(/message #(\d+)/g)].length;
    const res = w.run(args, input === undefined ? {} : { input });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const shas = await waitFor(() => {
      const all = [...logs(s.id, 2000).matchAll(/message #\d+: .*sha256 (\w+)/g)].map((m) => m[1]);
      return all.length > before && all;
    }, 'the answer');
    return shas.at(-1);
  }

  it.each([
    [['--file=/etc/passwd'], '--file=/etc/passwd'],
    [['--help'], '--help'],
    [['-n', '5'], '-n 5'],
    [['-f', '/etc/passwd'], '-f /etc/passwd'],
    [['--json', 'and', '--no-server'], '--json and --no-server'],
    [['--', '--help'], '--help'], // a -- right after the id is still the end of options
    [['-', 'dash'], '- dash'],
  ])('sends option-looking words after the id as the message: %j', async (words, expected) => {
    expect(await nextAnswer(['send', s.id, ...words])).toBe(sha256(expected));
  });

  it('still takes options before the id (and --json there)', async () => {
    const file = join(w.dir, 'opt.txt');
    writeFileSync(file, '--from a file');
    const before = [...logs(s.id, 2000).matchAll(/message #(\d+)/g)].length;
    const res = w.run(['send', '--json', '-f', file, s.id]);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ id: s.id, sent: true, bytes: 13 });
    await waitFor(() => [...logs(s.id, 2000).matchAll(/message #(\d+)/g)].length > before && logs(s.id, 2000).includes(sha256('--from a file')), 'file message');
    const help = w.run(['send', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: ennio send [options] <id> [message...]');
  });

  it.each([
    ['CRLF words', ['one\r\ntwo\r\n\r\nthree'], undefined, 'one\ntwo\n\nthree'],
    ['a lone CR', ['one\rtwo'], undefined, 'one\ntwo'],
    ['CRLF on stdin', [], 'from\r\nwindows\r\n', 'from\nwindows\n'],
  ])('turns each CRLF or CR into one line break: %s', async (_label, words, input, expected) => {
    expect(await nextAnswer(['send', s.id, ...words], input)).toBe(sha256(expected));
  });

  it('shows the last N lines with logs -n', () => {
    const out = w.run(['logs', s.id, '-n', '3']).stdout.trimEnd().split('\n');
    expect(out.length).toBeLessThanOrEqual(3);
    expect(out.length).toBeGreaterThan(0);
  });

  it('follows new output with logs -f until interrupted', async () => {
    const child = w.start(['logs', s.id, '-f', '-n', '5']);
    let seen = '';
    child.stdout!.on('data', (d: Buffer) => (seen += d.toString()));
    await waitFor(() => seen.length > 0, 'initial output');
    expect(w.run(['send', s.id, 'followed message']).code).toBe(0);
    await waitFor(() => seen.includes(sha256('followed message')), 'followed output');
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('refuses attach without a terminal and names the command to run', () => {
    const res = w.run(['attach', s.id]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(`tmux -u -L ${w.socket} attach-session -t =${s.id}:`);
  });

  it('reports exited when the agent exits, because it was checked', async () => {
    expect(w.run(['send', s.id, 'exit 3']).code).toBe(0);
    await waitFor(() => statusOf(s.id) === 'exited', 'status exited');
    const send = w.run(['send', s.id, 'hello?']);
    expect(send.code).not.toBe(0);
    expect(send.stderr).toContain('not running');
  });

  it('restores an exited session in its kept workspace', async () => {
    expect(w.run(['session', 'restore', s.id]).code).toBe(0);
    expect(statusOf(s.id)).toBe('running');
    await waitFor(() => logs(s.id).includes('demo-agent ready'), 'the agent to start again');
  });

  it('kills: runtime and workspace removed, branch and record kept', () => {
    const res = w.run(['session', 'kill', s.id]);
    expect(res.code).toBe(0);
    expect(w.tmux('has-session', '-t', `=${s.id}`).code).not.toBe(0);
    expect(existsSync(s.workspace_path)).toBe(false);
    expect(git(join(w.dir, 'repo'), 'branch', '--list', s.branch)).toContain(s.branch);
    expect(statusOf(s.id)).toBe('killed');
    expect(w.run(['session', 'kill', s.id]).code).not.toBe(0);
  });

  it('restores a killed session in a re-created worktree on its branch, with its commits', async () => {
    expect(w.run(['session', 'restore', s.id]).code).toBe(0);
    expect(git(s.workspace_path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe(s.branch);
    expect(readFileSync(join(s.workspace_path, 'NOTES.md'), 'utf8')).toContain('followed message');
    await waitFor(() => logs(s.id).includes('demo-agent ready'), 'the agent to start');
    expect(statusOf(s.id)).toBe('running');
  });

  it('cleanup kills exited sessions and --purge forgets killed ones', async () => {
    expect(w.run(['send', s.id, 'exit']).code).toBe(0);
    await waitFor(() => statusOf(s.id) === 'exited', 'exit');
    const res = w.run(['session', 'cleanup', '--json']);
    expect(JSON.parse(res.stdout)).toMatchObject({ killed: [s.id] });
    expect(existsSync(s.workspace_path)).toBe(false);
    w.run(['session', 'cleanup', '--purge']);
    expect(sessions().find((x) => x.id === s.id)).toBeUndefined();
  });
});

describe('session info and status', () => {
  it('shows info and events, --json anywhere on the line', () => {
    const s = spawnOk([]);
    const info = JSON.parse(w.run(['session', '--json', 'info', s.id]).stdout) as { id: string; events: Array<{ type: string }> };
    expect(info.id).toBe(s.id);
    expect(info.events.map((e) => e.type)).toContain('spawned');
    const text = w.run(['status']).stdout;
    expect(text).toContain(s.id);
    expect(text).toContain('running');
    expect(w.run(['session', 'kill', s.id]).code).toBe(0);
  });
});

describe('a program that reads lines (its terminal in canonical mode)', () => {
  // A plain line reader: the kernel's canonical mode, not the program, decides what a line may hold.
  const reader =
    'echo reader ready; n=0; while IFS= read -r l; do n=$((n+1)); ' +
    'printf "line %s: %s bytes sha %s\\n" "$n" "$(printf %s "$l" | wc -c)" "$(printf %s "$l" | sha256sum | cut -c1-64)"; done';
  let config: string;
  let id: string;
  const lines = (): Array<{ n: string; bytes: string; sha: string }> =>
    [...logs(id, 2000).matchAll(/line (\d+): (\d+) bytes sha (\w+)/g)].map((m) => ({ n: m[1]!, bytes: m[2]!, sha: m[3]! }));

  beforeAll(async () => {
    config = join(w.dir, 'reader.yaml');
    writeFileSync(config, readFileSync(join(w.dir, 'ennio.yaml'), 'utf8').replace(/command: .*/, `command: ${JSON.stringify(reader)}`));
    const res = w.run(['-c', config, 'spawn', 'app', '--json']);
    expect(res.stderr).toBe('');
    id = (JSON.parse(res.stdout) as Session).id;
    await waitFor(() => logs(id).includes('reader ready'), 'the reader to start');
  });
  afterAll(() => {
    w.run(['-c', config, 'session', 'kill', id]);
  });

  it.each([
    ['a 6000-byte line', 'z'.repeat(6000), 6000],
    ['4096 bytes of two-byte characters', 'é'.repeat(2048), 4096],
    ['a long line inside a multi-line message', `short\n${'w'.repeat(5000)}\nshort`, 5000],
  ])('refuses %s, saying why, and types nothing', (_label, message, bytes) => {
    const res = w.run(['-c', config, 'send', id, message]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`a line of the message is ${bytes} bytes`);
    expect(res.stderr).toContain('canonical mode, which holds at most 4095 bytes per line');
    expect(res.stderr).toContain('nothing was sent');
  });

  it('delivers a line of exactly 4095 bytes whole, as the first line the program read', async () => {
    const line = 'q'.repeat(4095);
    expect(w.run(['-c', config, 'send', id, line]).code).toBe(0);
    const got = await waitFor(() => lines().length > 0 && lines(), 'the line to be read');
    expect(got).toEqual([{ n: '1', bytes: '4095', sha: sha256(line) }]);
  });
});
