/** init, config, doctor, the process runtime and the demo, through the built CLI. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, demoProject, waitFor, type World } from './helpers/cli.js';

let w: World;
beforeAll(() => {
  w = createWorld();
  w.makeRepo();
});
afterAll(() => w.cleanup());

describe('init and config', () => {
  it('init writes a starter that validates, and refuses to overwrite', () => {
    const dir = join(w.dir, 'proj');
    const res = w.run(['init', dir]);
    expect(res.code).toBe(0);
    const file = join(dir, 'ennio.yaml');
    const before = readFileSync(file, 'utf8');
    expect(w.run(['config', 'validate', file]).code).toBe(0);
    const again = w.run(['init', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });
  it('schema prints a JSON Schema with the config keys', () => {
    const schema = JSON.parse(w.run(['config', 'schema']).stdout) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['port', 'defaults', 'projects']));
  });
  it('show prints the effective config with secrets redacted', () => {
    const path = join(w.dir, 'secret.yaml');
    writeFileSync(path, [
      'projects:',
      '  - name: r',
      '    path: /srv/r',
      '    ssh_config:',
      '      host: example.invalid',
      '      auth: { type: password, password: "${TEST_SSH_PASSWORD}" }',
      '      proxy_jump: "jump-${TEST_NODE_TOKEN}.example.invalid"',
      '      strategy: node',
      '      node_config: { auth_token: "${TEST_NODE_TOKEN}" }',
      '',
    ].join('\n'));
    const env = { TEST_SSH_PASSWORD: 'hunter2-secret', TEST_NODE_TOKEN: 'tok-secret-123' };
    for (const args of [['config', 'show'], ['config', 'show', '--json']]) {
      const res = w.run(['-c', path, ...args], { env });
      expect(res.code).toBe(0);
      expect(res.stdout).not.toContain('hunter2-secret');
      expect(res.stdout).not.toContain('tok-secret-123');
      expect(res.stdout).toContain('***');
      expect(res.stdout).toContain('example.invalid');
    }
  });
});

describe('doctor', () => {
  it('reports tools and the config', () => {
    w.writeConfig(demoProject());
    const res = w.run(['doctor', '--json']);
    const report = JSON.parse(res.stdout) as { ok: boolean; checks: Array<{ name: string; ok: boolean }> };
    expect(report.checks.find((c) => c.name === 'git')?.ok).toBe(true);
    expect(report.checks.find((c) => c.name === 'tmux')?.ok).toBe(true);
    expect(report.checks.find((c) => c.name === 'config')?.ok).toBe(true);
    expect(report.ok).toBe(true);
    expect(res.code).toBe(0);
  });
});

describe('process runtime', () => {
  it('runs a plain child process with its output in a log, takes no messages, and reports its exit', async () => {
    const path = join(w.dir, 'proc.yaml');
    writeFileSync(path, [
      'projects:',
      '  - name: batch',
      '    path: ./repo',
      '    runtime: process',
      '    agent: custom',
      '    agent_config:',
      '      command: \'echo "working in $ENNIO_SESSION_ID: $ENNIO_PROMPT"; read line; echo never\'',
      '',
    ].join('\n'));
    const res = w.run(['-c', path, 'spawn', 'batch', '--prompt', 'do the thing', '--json']);
    expect(res.code).toBe(0);
    const s = JSON.parse(res.stdout) as { id: string; runtime_name: string };
    expect(s.runtime_name).toBe('process');
    await waitFor(() => w.run(['-c', path, 'logs', s.id]).stdout.includes(`working in ${s.id}: do the thing`), 'process output');
    const send = w.run(['-c', path, 'send', s.id, 'hi']);
    expect(send.code).not.toBe(0);
    expect(send.stderr).toContain('takes no messages');
    await waitFor(() => w.run(['-c', path, 'status', '--json']).stdout.includes('"exited"'), 'exit to be noticed');
    const info = JSON.parse(w.run(['-c', path, 'session', 'info', s.id, '--json']).stdout) as { runtime_info: Record<string, string> };
    expect(info.runtime_info['exit_code']).toBe('0');
    expect(w.run(['-c', path, 'session', 'kill', s.id]).code).toBe(0);
  });
});

describe('demo', () => {
  it('spawns two sessions, sends a message, shows the answer, kills one', () => {
    const res = w.run(['demo']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/message #2: \d+ bytes, 2 line\(s\)/);
    expect(res.stdout).toContain('killed');
    const cfg = /Throwaway git repo and config in (\S+)/.exec(res.stdout)?.[1];
    expect(cfg && existsSync(join(cfg, 'ennio.yaml'))).toBe(true);
    const list = JSON.parse(w.run(['-c', join(cfg!, 'ennio.yaml'), 'status', '--json']).stdout) as Array<{ id: string; status: string }>;
    expect(list.map((s) => s.status).sort()).toEqual(['killed', 'running']);
    for (const s of list.filter((x) => x.status === 'running')) w.run(['-c', join(cfg!, 'ennio.yaml'), 'session', 'kill', s.id]);
    // The demo keeps its repo and config for the user to try things in; a test does not.
    rmSync(cfg!, { recursive: true, force: true });
  });
});

describe('attach', () => {
  it('attaches a real terminal to the session and detaches with Ctrl-b d', async () => {
    w.writeConfig(demoProject());
    const res = w.run(['spawn', 'app', '--json']);
    expect(res.code).toBe(0);
    const { id } = JSON.parse(res.stdout) as { id: string };
    const { spawn } = await import('node:child_process');
    // `script` gives the CLI a real pty, as a user's terminal would.
    const child = spawn('script', ['-qfec', `${process.execPath} ${join(import.meta.dirname, '../dist/cli.js')} attach ${id}`, '/dev/null'], {
      cwd: w.dir, env: { ...w.env, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor(() => w.tmux('list-clients', '-t', `=${id}`).stdout.includes(id), 'a client to attach');
      // tmux draws with cursor movements between runs of text: compare without escapes and spaces.
      const plain = (): string => screen.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|\s/g, '');
      await waitFor(() => plain().includes(id), 'the pane to be drawn').catch((e: Error) => { throw new Error(`${e.message}; screen: ${JSON.stringify(screen.slice(0, 2000))}`); });
      child.stdin.write('\x02d'); // Ctrl-b d
      expect(await exited).toBe(0);
      expect(w.tmux('list-clients', '-t', `=${id}`).stdout).toBe('');
    } finally {
      child.kill('SIGKILL');
      w.run(['session', 'kill', id]);
    }
  });
});

describe('secrets', () => {
  it('never reach the agent, post_create or the tmux server environment', async () => {
    const path = join(w.dir, 'secret-env.yaml');
    writeFileSync(path, demoProject('      - env > post-create-env.txt') + [
      '  - name: remote',
      '    path: /srv/r',
      '    ssh_config:',
      '      host: example.invalid',
      '      auth: { type: password, password: "${TEST_ONLY_PW}" }',
      '',
    ].join('\n'));
    const env = { TEST_ONLY_PW: '123456', SSH_PASSPHRASE: 'pass-phrase-x', KEEP_ME: 'kept' };
    const res = w.run(['-c', path, 'spawn', 'app', '--json'], { env });
    expect(res.stderr).toBe('');
    const s = JSON.parse(res.stdout) as { id: string; workspace_path: string };
    const postCreateEnv = readFileSync(join(s.workspace_path, 'post-create-env.txt'), 'utf8');
    expect(postCreateEnv).not.toContain('123456');
    expect(postCreateEnv).not.toContain('pass-phrase-x');
    expect(postCreateEnv).toContain('KEEP_ME=kept'); // only secrets are removed
    const sessionEnv = w.tmux('show-environment', '-t', `=${s.id}`).stdout + w.tmux('show-environment', '-g').stdout;
    expect(sessionEnv).not.toContain('123456');
    expect(sessionEnv).not.toContain('pass-phrase-x');
    // A password made only of digits stays a string (it is not re-typed into a number).
    const validate = w.run(['-c', path, 'config', 'validate'], { env });
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);
    expect(w.run(['-c', path, 'session', 'kill', s.id], { env }).code).toBe(0);
  });
});

describe('--json and --', () => {
  it('leaves words after -- untouched, so a message may contain --json', async () => {
    w.writeConfig(demoProject());
    const res = w.run(['spawn', 'app', '--json']);
    const { id } = JSON.parse(res.stdout) as { id: string };
    await waitFor(() => w.run(['logs', id]).stdout.includes('demo-agent ready'), 'agent');
    expect(w.run(['send', id, '--', 'use', '--json', 'here']).code).toBe(0);
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256').update('use --json here').digest('hex');
    await waitFor(() => w.run(['logs', id, '-n', '100']).stdout.includes(sha), 'message with --json');
    expect(w.run(['session', 'kill', id]).code).toBe(0);
  });
});

describe('a prompt longer than a tmux command may be', () => {
  it('is typed in after start-up instead of riding on the launch command', async () => {
    // A stand-in `claude` (which takes its prompt as an argument) on PATH.
    const bin = join(w.dir, 'fake-claude-bin');
    const { mkdirSync, chmodSync } = await import('node:fs');
    mkdirSync(bin, { recursive: true });
    // Silent until the TUI is up, like the real one: it records its argument count in a file.
    writeFileSync(join(bin, 'claude'), `#!/bin/sh\necho "$#" > "$ENNIO_WORKSPACE/claude-argc"\nexec node ${JSON.stringify(join(import.meta.dirname, '../dist/demo-agent.cjs'))}\n`);
    chmodSync(join(bin, 'claude'), 0o755);
    const path = join(w.dir, 'claude.yaml');
    writeFileSync(path, demoProject().replace('    agent: custom', '    agent: claude-code'));
    const prompt = Array.from({ length: 400 }, (_, i) => `requirement ${i}: ${'y'.repeat(40)}`).join('\n'); // ~20 kB
    const env = { PATH: `${bin}:${process.env['PATH'] ?? ''}` };
    const res = w.run(['-c', path, 'spawn', 'app', '--prompt', prompt, '--json'], { env });
    expect(res.stderr).toBe('');
    const { id } = JSON.parse(res.stdout) as { id: string };
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256').update(prompt).digest('hex');
    await waitFor(() => w.run(['-c', path, 'logs', id, '-n', '2000'], { env }).stdout.includes(sha), 'the typed prompt');
    const { workspace_path } = JSON.parse(res.stdout) as { workspace_path: string };
    expect(readFileSync(join(workspace_path, 'claude-argc'), 'utf8').trim()).toBe('0');
    expect(w.run(['-c', path, 'session', 'kill', id], { env }).code).toBe(0);
  });
});

describe('typed in a pane of another tmux server', () => {
  it("still finds ennio's sessions on the default server, and never records them as exited", async () => {
    // An isolated "default" tmux server ($TMUX_TMPDIR), and the caller's own terminal: a
    // pane of another server, whose $TMUX tmux would follow when no -L/-S is given.
    const tmuxDir = mkdtempSync(join(tmpdir(), 'ennio-tmuxdir-'));
    const tmuxIn = (...args: string[]): { status: number | null; stdout: string } =>
      spawnSync('tmux', args, { env: { ...process.env, TMUX_TMPDIR: tmuxDir, TMUX: '' }, encoding: 'utf8' });
    try {
      expect(tmuxIn('-L', 'terminal', 'new-session', '-d', '-s', 'mine').status).toBe(0);
      const pid = tmuxIn('-L', 'terminal', 'display-message', '-p', '#{pid}').stdout.trim();
      const outside = { ENNIO_TMUX_SOCKET: '', TMUX_TMPDIR: tmuxDir };
      const inPane = { ...outside, TMUX: `${join(tmuxDir, `tmux-${process.getuid?.() ?? 0}`, 'terminal')},${pid},0`, TMUX_PANE: '%0' };
      w.writeConfig(demoProject());
      const spawned = w.run(['spawn', 'app', '--json'], { env: inPane });
      expect(spawned.stderr).toBe('');
      const id = (JSON.parse(spawned.stdout) as { id: string }).id;
      expect(tmuxIn('has-session', '-t', `=${id}`).status).toBe(0); // on the default server, not the caller's
      await waitFor(() => w.run(['logs', id], { env: inPane }).stdout.includes('demo-agent ready'), 'the agent, read from inside the pane');
      expect(w.run(['send', id, 'hello from a pane'], { env: inPane }).code).toBe(0);
      await waitFor(() => w.run(['logs', id], { env: inPane }).stdout.includes('message #1'), 'the answer, read from inside the pane');
      const shown = JSON.parse(w.run(['status', '--json'], { env: inPane }).stdout) as Array<{ id: string; status: string }>;
      expect(shown.find((s) => s.id === id)?.status).toBe('running');
      expect(w.run(['session', 'kill', id], { env: inPane }).code).toBe(0);
      expect(tmuxIn('has-session', '-t', `=${id}`).status).not.toBe(0);
    } finally {
      tmuxIn('kill-server');
      tmuxIn('-L', 'terminal', 'kill-server');
      rmSync(tmuxDir, { recursive: true, force: true });
    }
  });
});

describe('a reader that goes away (`ennio status | head`)', () => {
  it('stops quietly with the status of a closed pipe, in both modes and on the fast path', async () => {
    w.writeConfig(demoProject());
    for (const args of [['status'], ['status', '--json'], ['--version'], ['config', 'show']]) {
      const child = w.start(args);
      child.stdout!.destroy(); // gone before the command's first write (node alone takes ~70 ms to start)
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
      expect({ args, code, stderr }).toEqual({ args, code: 141, stderr: '' });
    }
  });
});
