/**
 * From a hook firing to the new state in `ennio status`: `npx tsx bench/activity-bench.ts [samples]`.
 *
 * A local claude-code session (the stand-in claude, test/fixtures/fake-claude.mjs) under a
 * real orchestrator; each sample runs the session's own hook command (as Claude Code would,
 * through sh with the JSON on stdin), alternating UserPromptSubmit and Stop, and polls the
 * orchestrator's API (what `ennio status` asks) until the activity shows the change. The
 * orchestrator sees local hooks through inotify, so this should stay well under 100 ms;
 * remote sessions show it at the next sweep (sweep_interval). Everything is removed at the end.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ms, printTable, stats } from './lib.js';

process.env['ENNIO_TEST_SERVER'] = '1'; // the world's commands go through an orchestrator
const SAMPLES = Number(process.argv[2] ?? 40);
const BUDGET_MS = 100;

async function main(): Promise<void> {
  const { createWorld } = await import('../test/helpers/cli.js');
  const { fakeClaudeBin } = await import('../test/helpers/fake-claude.js');
  const { HttpApi } = await import('../src/api/http-client.js');
  const w = createWorld();
  try {
    w.makeRepo();
    w.env['PATH'] = `${fakeClaudeBin(w.dir)}:${w.env['PATH'] ?? ''}`;
    w.writeConfig(['projects:', '  - name: app', '    path: ./repo', '    agent: claude-code', '    post_create: [git config user.name t && git config user.email t@t.invalid]', ''].join('\n'));
    const res = w.run(['spawn', 'app', '--json']);
    if (res.code !== 0) throw new Error(`spawn failed: ${res.stderr}`);
    const s = JSON.parse(res.stdout) as { id: string; workspace_path: string };
    // The orchestrator is the built one (dist/): speak as its build.
    const { build } = JSON.parse(readFileSync(join(w.home, 'server.json'), 'utf8')) as { build: string };
    const api = new HttpApi({ socket: join(w.home, 'ennio.sock'), build, caller: { cwd: w.dir, env: w.env } });
    const activity = async (): Promise<string> => (await api.list()).sessions.find((x) => x.id === s.id)?.activity ?? '';
    for (const until = Date.now() + 60_000; (await activity()) !== 'idle'; ) {
      if (Date.now() > until) throw new Error('the agent did not start (no SessionStart)');
      await new Promise((r) => setTimeout(r, 100));
    }
    const settings = JSON.parse(readFileSync(join(s.workspace_path, '.claude/settings.local.json'), 'utf8')) as { hooks: Record<string, Array<{ hooks: Array<{ command: string }> }>> };
    const commandOf = (event: string): string => settings.hooks[event]!.at(-1)!.hooks[0]!.command;
    const payload = JSON.stringify({ session_id: '3f2a9c1e-8d7b-4e51-9a0f-2b6c4d8e1f70', hook_event_name: 'x', cwd: s.workspace_path });
    const samples: number[] = [];
    for (let i = 0; i < SAMPLES + 3; i++) {
      const [event, want] = i % 2 === 0 ? ['UserPromptSubmit', 'working'] : ['Stop', 'idle'];
      const t0 = performance.now();
      const hook = spawnSync('sh', ['-c', commandOf(event)], { input: payload, cwd: s.workspace_path });
      if (hook.status !== 0) throw new Error(`hook exited ${hook.status}`);
      while ((await activity()) !== want) {
        if (performance.now() - t0 > 30_000) throw new Error(`no ${want} after 30 s`);
        await new Promise((r) => setTimeout(r, 2));
      }
      if (i >= 3) samples.push(performance.now() - t0); // the first ones warm the orchestrator up
    }
    const st = stats(samples);
    printTable([['from hook firing to `ennio status` (local, orchestrator)', 'median', 'p90'], ['hook run + state visible in the API', ms(st.median), ms(st.p90)]]);
    console.log(st.median <= BUDGET_MS ? `within the ${BUDGET_MS} ms budget` : `OVER the ${BUDGET_MS} ms budget`);
    if (st.median > BUDGET_MS) process.exitCode = 1;
    await api.close();
  } finally {
    w.cleanup();
  }
}

await main();
