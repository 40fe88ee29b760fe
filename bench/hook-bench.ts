/**
 * The cost of ennio's activity hook per agent event, `npx tsx bench/hook-bench.ts [runs]`.
 * Runs it the way Claude Code does (the configured command through `sh -c`, the event's
 * JSON on stdin) with a small payload and a 100 kB PostToolUse payload, next to `node -e ''`
 * (what a Node hook would cost at least) and `sh -c true` (the floor: one shell). The
 * budget is 20 ms median per call; on a loaded machine compare with the floor.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claudeHookCommand, HOOK_SCRIPT } from '../src/activity/hook-script.js';
import { measure, ms, printTable } from './lib.js';

const RUNS = Number(process.argv[2] ?? 200);
const BUDGET_MS = 20;

/** Run argv; `input` is written to its stdin (an EPIPE means the command did not read it: a failure). */
function run(argv: string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'ignore'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited ${code}`))));
    if (child.stdin) {
      child.stdin.on('error', reject);
      child.stdin.end(input);
    }
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ennio-hook-bench-'));
  try {
    const script = join(dir, 'ennio-hook.sh');
    writeFileSync(script, HOOK_SCRIPT);
    const state = join(dir, 'activity', 'bench.events');
    const command = (event: string): string[] => ['sh', '-c', claudeHookCommand(script, state, event)];
    const base = { session_id: '3f2a9c1e-8d7b-4e51-9a0f-2b6c4d8e1f70', transcript_path: '/home/u/.claude/projects/x/3f2a.jsonl', cwd: dir };
    const small = JSON.stringify({ ...base, hook_event_name: 'Notification', notification_type: 'permission_prompt', message: 'Claude needs your permission to use Bash' });
    const large = JSON.stringify({ ...base, hook_event_name: 'PostToolUse', tool_name: 'Read', tool_input: { file_path: '/x' }, tool_response: { content: 'x'.repeat(100_000) } });
    const rows = [['call', 'median', 'p90']];
    const results: Array<[string, { median: number; p90: number }]> = [
      ['hook, Notification (small JSON)', await measure(RUNS, () => run(command('Notification'), small))],
      ['hook, PostToolUse (100 kB JSON)', await measure(RUNS, () => run(command('PostToolUse'), large))],
      ['sh -c true (one shell: the floor)', await measure(RUNS, () => run(['sh', '-c', 'true']))],
      ['node -e "" (a Node hook, at least)', await measure(Math.min(RUNS, 30), () => run([process.execPath, '-e', '']))],
    ];
    for (const [name, s] of results) rows.push([name, ms(s.median), ms(s.p90)]);
    printTable(rows);
    const lines = readFileSync(state, 'utf8').trim().split('\n');
    console.log(`\n${lines.length} lines appended; last: ${JSON.stringify(lines.at(-1))}`);
    const worst = Math.max(results[0]![1].median, results[1]![1].median);
    console.log(worst <= BUDGET_MS ? `within the ${BUDGET_MS} ms budget` : `OVER the ${BUDGET_MS} ms budget`);
    if (worst > BUDGET_MS) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
