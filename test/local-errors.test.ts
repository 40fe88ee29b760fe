/** Bad input: a clear error, a non-zero exit, and nothing left half-created. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, DEMO_AGENT, demoProject, git, orchestratorPid, SERVER_MODE, waitFor, type World } from './helpers/cli.js';

let w: World;

/** Nothing of a failed spawn may remain: no workspace, no ennio branch, no tmux session, no record. */
function expectNothingLeft(): void {
  const ws = join(w.home, 'workspaces', 'app');
  expect(existsSync(ws) ? readdirSync(ws) : []).toEqual([]);
  expect(git(join(w.dir, 'repo'), 'branch', '--list', 'ennio/*')).toBe('');
  expect(w.tmux('list-sessions').stdout).toBe('');
  expect(JSON.parse(w.run(['session', 'list', '--json']).stdout)).toEqual([]);
}

beforeAll(() => {
  w = createWorld();
  w.makeRepo();
  w.writeConfig(demoProject());
});
afterAll(() => w.cleanup());

describe('unknown names', () => {
  it('unknown project', () => {
    const res = w.run(['spawn', 'nope']);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('unknown project "nope"');
    expect(res.stderr).toContain('app');
  });
  it.each(['nope', '$(touch PWN)', "a'b;c", '../../etc'])('unknown session %s', (id) => {
    for (const cmd of [['send', id, 'hi'], ['logs', id], ['session', 'kill', id], ['session', 'info', id], ['session', 'restore', id]]) {
      const res = w.run(cmd);
      expect(res.code).toBe(3);
      expect(res.stderr).toContain('unknown session');
    }
    expect(existsSync(join(w.dir, 'PWN'))).toBe(false);
  });
  it('bad arguments are usage errors', () => {
    const lines = w.run(['logs', 'x', '-n', 'abc']);
    expect(lines.code).toBe(2);
    expect(lines.stderr).toContain('-n expects a whole number');
    const res = w.run(['frobnicate']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("unknown command 'frobnicate'");
  });
  it('unknown agent', () => {
    const res = w.run(['spawn', 'app', '--agent', 'gpt-9']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('unknown agent "gpt-9"');
    expectNothingLeft();
  });
});

describe('config errors', () => {
  const bad = (yaml: string, env: NodeJS.ProcessEnv = {}): { code: number; stderr: string } => {
    const path = join(w.dir, 'bad.yaml');
    writeFileSync(path, yaml);
    return w.run(['-c', path, 'config', 'validate'], { env });
  };
  it('invalid YAML names line and column', () => {
    const res = bad('projects:\n  - name: x\n    path: [unclosed\n');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/bad\.yaml:\d+:\d+/);
  });
  it('unknown key with a did-you-mean hint', () => {
    const res = bad('projects:\n  - name: x\n    pathh: /tmp\n');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/bad\.yaml:3:5/);
    expect(res.stderr).toContain('did you mean "path"');
  });
  it('a missing ${VAR} is named', () => {
    const res = bad('projects:\n  - name: x\n    path: ${ENNIO_TEST_UNSET_VAR}\n', { ENNIO_TEST_UNSET_VAR: undefined });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('ENNIO_TEST_UNSET_VAR');
  });
  it('a missing config says how to make one', () => {
    const empty = mkdtempSync(join(tmpdir(), 'ennio-noconfig-'));
    try {
      const res = w.run(['status'], { cwd: empty, env: { HOME: empty } });
      expect(res.code).toBe(2);
      expect(res.stderr).toContain('ennio init');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('spawn failures leave nothing behind', () => {
  it('a branch that already exists', () => {
    git(join(w.dir, 'repo'), 'branch', 'taken');
    const res = w.run(['spawn', 'app', '--branch', 'taken']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('branch "taken" already exists');
    git(join(w.dir, 'repo'), 'branch', '-D', 'taken');
    expectNothingLeft();
  });
  it('an invalid branch name', () => {
    for (const branch of ['has space', 'a..b', '-rf', 'new\nline', 'x~1']) {
      const res = w.run(['spawn', 'app', '--branch', branch]);
      expect(res.code).toBe(2);
      expect(res.stderr).toContain('invalid branch name');
    }
    expectNothingLeft();
  });
  it('a failing post_create shows its output and removes workspace and branch', () => {
    const path = join(w.dir, 'failing.yaml');
    writeFileSync(path, demoProject(`      - 'echo "about to fail: $ENNIO_SESSION_ID" && touch made-by-post-create && exit 7'`));
    const res = w.run(['-c', path, 'spawn', 'app']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('post_create command failed (exit 7)');
    expect(res.stderr).toContain('about to fail: app-');
    expectNothingLeft();
  });
  it('an agent command that is not installed', () => {
    const path = join(w.dir, 'noagent.yaml');
    writeFileSync(path, readFileSync(join(w.dir, 'ennio.yaml'), 'utf8').replace(`node ${DEMO_AGENT}`, 'no-such-agent-binary --flag'));
    const res = w.run(['-c', path, 'spawn', 'app']);
    expect(res.code).toBe(4);
    expect(res.stderr).toContain('"no-such-agent-binary"');
    expectNothingLeft();
  });
  it.each(['tmux', 'git'])('%s missing from PATH', (tool) => {
    // A PATH with every program of /usr/bin and /bin except the one under test.
    const bin = join(w.dir, `bin-without-${tool}`);
    mkdirSync(bin, { recursive: true });
    for (const dir of ['/usr/local/bin', '/usr/bin', '/bin']) {
      for (const name of existsSync(dir) ? readdirSync(dir) : []) {
        if (name !== tool && !existsSync(join(bin, name))) symlinkSync(join(dir, name), join(bin, name));
      }
    }
    const res = w.run(['spawn', 'app'], { env: { PATH: bin } });
    expect(res.code).toBe(4);
    expect(res.stderr).toContain(`${tool} is not installed`);
    expectNothingLeft();
  });
});

describe('max_sessions', () => {
  it('holds under concurrent spawns from several processes', async () => {
    const path = join(w.dir, 'max.yaml');
    writeFileSync(path, demoProject().replace('    post_create:', '    max_sessions: 2\n    post_create:'));
    const { spawn } = await import('node:child_process');
    const runs = await Promise.all(
      Array.from({ length: 5 }, () => new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [join(import.meta.dirname, '../dist/cli.js'), '-c', path, 'spawn', 'app'], { env: w.env, cwd: w.dir });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code, stderr }));
      })),
    );
    expect(runs.filter((r) => r.code === 0)).toHaveLength(2);
    for (const r of runs.filter((x) => x.code !== 0)) expect(r.stderr).toContain('max_sessions');
    const live = JSON.parse(w.run(['-c', path, 'session', 'list', '--json']).stdout) as Array<{ id: string }>;
    expect(live).toHaveLength(2);
    for (const s of live) expect(w.run(['-c', path, 'session', 'kill', s.id]).code).toBe(0);
    w.run(['-c', path, 'session', 'cleanup', '--purge']);
    // kill keeps branches by design; later tests check that no ennio branch is left.
    for (const s of live) git(join(w.dir, 'repo'), 'branch', '-D', `ennio/${s.id}`);
  });
});

describe('interrupting a spawn', () => {
  it('Ctrl-C during post_create rolls everything back and exits 130', async () => {
    const path = join(w.dir, 'slow.yaml');
    writeFileSync(path, demoProject("      - 'touch started-post-create && sleep 30'"));
    const { spawn } = await import('node:child_process');
    // Its own process group, like a terminal's foreground job: Ctrl-C reaches post_create too.
    const child = spawn(process.execPath, [join(import.meta.dirname, '../dist/cli.js'), '-c', path, 'spawn', 'app'], { env: w.env, cwd: w.dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const ws = join(w.home, 'workspaces', 'app');
    await waitFor(() => existsSync(ws) && readdirSync(ws).some((d) => existsSync(join(ws, d, 'started-post-create'))), 'post_create to start');
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toContain('interrupted by SIGINT');
    expectNothingLeft();
  });
});

describe('a spawn that died without rolling back', () => {
  it('is left alone by cleanup while it runs, and removed by cleanup once its process is gone', async () => {
    const path = join(w.dir, 'slow2.yaml');
    writeFileSync(path, demoProject("      - 'touch started-post-create && sleep 30'"));
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [join(import.meta.dirname, '../dist/cli.js'), '-c', path, 'spawn', 'app'], { env: w.env, cwd: w.dir, detached: true, stdio: 'ignore' });
    const exited = new Promise<void>((r) => child.on('close', () => r()));
    try {
      const ws = join(w.home, 'workspaces', 'app');
      await waitFor(() => existsSync(ws) && readdirSync(ws).some((d) => existsSync(join(ws, d, 'started-post-create'))), 'post_create to start');
      const whileRunning = JSON.parse(w.run(['-c', path, 'session', 'cleanup', '--json']).stdout) as { killed: string[] };
      expect(whileRunning.killed).toEqual([]);
      expect(readdirSync(ws)).toHaveLength(1); // the live spawn's workspace is untouched
      // No chance to roll back. Through an orchestrator the spawn runs there: kill it too
      // (a client that merely goes away makes the orchestrator roll back on its own).
      if (SERVER_MODE) process.kill(orchestratorPid(w.home), 'SIGKILL');
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
      const after = JSON.parse(w.run(['-c', path, 'session', 'cleanup', '--json']).stdout) as { killed: string[] };
      expect(after.killed).toHaveLength(1);
      expectNothingLeft();
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone, which is the normal case
      }
    }
  });
});
