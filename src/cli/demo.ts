/**
 * `ennio demo`: a throwaway repo and config, two sessions of the built-in demo agent,
 * a message and its answer, a kill — the whole loop a user will run with real agents.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distFileCandidates, findDistFile } from '../core/dist-file.js';
import type { Command } from 'commander';
import pc from 'picocolors';
import { EnnioError } from '../core/errors.js';
import { noServerWanted } from './api-link.js';
import { createContext, type GlobalOptions } from './context.js';
import { dashboardLink } from './dashboard.js';

const step = (text: string): void => void process.stdout.write(`\n${pc.bold(pc.cyan('▸'))} ${pc.bold(text)}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function makeRepo(dir: string): void {
  const git = (...args: string[]): void => void execFileSync('git', ['-c', 'user.name=ennio demo', '-c', 'user.email=demo@ennio.invalid', ...args], { cwd: dir, stdio: 'ignore' });
  mkdirSync(dir, { recursive: true });
  git('init', '--quiet', '--initial-branch=main');
  writeFileSync(join(dir, 'README.md'), '# demo project\n\nA throwaway repository made by `ennio demo`.\n');
  git('add', 'README.md');
  git('commit', '--quiet', '-m', 'initial commit');
}

function writeConfig(dir: string, agentScript: string): string {
  const path = join(dir, 'ennio.yaml');
  writeFileSync(path, [
    '# Made by `ennio demo`. Run ennio commands from this folder, or pass -c with this file.',
    '# The dashboard on any free port (an orchestrator that already runs keeps its own).',
    'port: 0',
    'projects:',
    '  - name: demo',
    '    path: ./repo',
    '    default_branch: main',
    '    session_prefix: demo',
    '    max_sessions: 5',
    '    agent: custom',
    '    agent_config:',
    `      command: ${JSON.stringify(`node ${agentScript}`)}`,
    '    post_create:',
    '      - git config user.name "ennio demo" && git config user.email demo@ennio.invalid',
    '',
  ].join('\n'));
  return path;
}

/** The demo's sessions, live in the browser: the orchestrator serves them under a login link bound to the demo's config. */
async function showDashboard(g: GlobalOptions, configFlag: string): Promise<void> {
  step('The dashboard: every session live, its terminal in the browser');
  if (noServerWanted(g)) {
    process.stdout.write(`  ennio ${configFlag} dashboard           # (not started here: --no-server)\n`);
    return;
  }
  try {
    const login = await dashboardLink(g);
    process.stdout.write(`  ${pc.bold(login.url)}\n  ${pc.dim('(one-time link, valid for a few minutes; a new one: ennio ' + configFlag + ' dashboard)')}\n`);
  } catch (err) {
    process.stdout.write(`  ${pc.dim(`could not get a dashboard link: ${err instanceof Error ? err.message : String(err)}`)}\n`);
  }
}

export function registerDemo(program: Command, globals: () => GlobalOptions): void {
  program
    .command('demo')
    .description('spawn and drive two sessions of a built-in demo agent in a throwaway repo')
    .action(async () => {
      const agentScript = findDistFile('demo-agent.cjs');
      if (agentScript === undefined) {
        throw new EnnioError('INTERNAL', `demo agent missing (looked at ${distFileCandidates('demo-agent.cjs').join(', ')})`, { hint: 'run npm run build first' });
      }
      const dir = mkdtempSync(join(tmpdir(), 'ennio-demo-'));
      makeRepo(join(dir, 'repo'));
      const configPath = writeConfig(dir, agentScript);
      step(`Throwaway git repo and config in ${dir}`);
      process.stdout.write(`${pc.dim(configPath)}\n`);

      const ctx = createContext({ ...globals(), config: configPath });
      try {
        const m = ctx.manager;
        step('Spawning two sessions (worktree + branch + tmux + demo agent, prompt typed in)');
        const a = await m.spawn('demo', { prompt: 'Write a greeting into NOTES.md' });
        process.stdout.write(`  ${a.id}  branch ${a.branch}\n`);
        const b = await m.spawn('demo', { prompt: 'List three ideas for this project' });
        process.stdout.write(`  ${b.id}  branch ${b.branch}\n`);

        step('ennio status');
        for (const s of await m.list('demo')) process.stdout.write(`  ${s.id}  ${s.status.padEnd(8)} ${s.agent}  ${s.workspace_path}\n`);

        step(`ennio send ${a.id} (a two-line message)`);
        await m.send(a.id, 'Please also add a farewell.\nThen commit it.');
        let output = '';
        for (let i = 0; i < 50 && !/message #2/.test(output); i++) {
          await sleep(100);
          output = await m.logs(a.id, 30);
        }
        step(`ennio logs ${a.id}`);
        process.stdout.write(`${output.split('\n').map((l) => `  │ ${l}`).join('\n')}\n`);

        step(`The agent's commits on ${a.branch}`);
        process.stdout.write(execFileSync('git', ['-C', a.workspace_path, 'log', '--oneline', '-3'], { encoding: 'utf8' }).replace(/^/gm, '  '));

        step(`ennio session kill ${b.id}`);
        await m.kill(b.id);
        for (const s of await m.list('demo')) process.stdout.write(`  ${s.id}  ${s.status}\n`);

        const c = `-c ${configPath}`;
        step('Try next');
        process.stdout.write([
          `  ennio ${c} status`,
          `  ennio ${c} send ${a.id} "hello there"`,
          `  ennio ${c} logs ${a.id} -f          # Ctrl-C to stop following`,
          `  ennio ${c} attach ${a.id}           # Ctrl-b d to detach`,
          `  ennio ${c} session restore ${b.id}`,
          `  ennio ${c} session kill ${a.id}`,
          '  ennio init my-project                # a starter ennio.yaml for your own repo',
          '',
        ].join('\n'));
        await showDashboard({ ...globals(), config: configPath }, c);
      } finally {
        await ctx.close();
      }
    });
}
