/** spawn, status, session list|info|kill|restore|cleanup. */
import type { Command } from 'commander';
import pc from 'picocolors';
import type { SessionView } from '../services/session-manager.js';
import type { GlobalOptions } from './context.js';
import { withContext } from './run.js';
import { age, printJson, table } from './output.js';

function colorStatus(status: string): string {
  const paint = { running: pc.green, spawning: pc.yellow, exited: pc.yellow, killed: pc.dim, failed: pc.red }[status];
  return paint && process.stdout.isTTY ? paint(status) : status;
}

/** What --json prints for a session: the record without the opaque runtime handle. */
export function publicSession(s: SessionView): Record<string, unknown> {
  const { runtime_handle: _handle, info, ...rest } = s;
  return { ...rest, info: info ? (JSON.parse(info) as unknown) : null };
}

function sessionsTable(sessions: SessionView[]): string {
  if (sessions.length === 0) return 'no sessions';
  return table(
    ['ID', 'PROJECT', 'STATUS', 'AGENT', 'HOST', 'BRANCH', 'CREATED'],
    sessions.map((s) => [s.id, s.project, colorStatus(s.unreachable ? `${s.status} (unreachable: ${s.unreachable_reason ?? 'error'})` : s.status), s.agent, s.host, s.branch, age(s.created_at)]),
  );
}

export function registerSessionCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('spawn')
    .description('create a workspace and start an agent session in it')
    .argument('<project>', 'project name from ennio.yaml')
    .option('-p, --prompt <text>', 'first instruction for the agent')
    .option('-b, --branch <name>', 'branch to create (default ennio/<session-id>)')
    .option('-i, --issue <id>', 'issue the session works on (exported as ENNIO_ISSUE)')
    .option('-a, --agent <name>', 'agent to use instead of the project default')
    .action((projectName: string, opts: { prompt?: string; branch?: string; issue?: string; agent?: string }) =>
      withContext(globals(), async (ctx, g) => {
        const session = await ctx.manager.spawn(projectName, opts);
        if (g.json) printJson(publicSession(session));
        else process.stdout.write(`${session.id}\n`);
      }),
    );

  const list = (projectName: string | undefined): Promise<void> =>
    withContext(globals(), async (ctx, g) => {
      const sessions = await ctx.manager.list(projectName);
      if (g.json) printJson(sessions.map(publicSession));
      else process.stdout.write(`${sessionsTable(sessions)}\n`);
    });

  program.command('status').description('sessions and their checked status').argument('[project]').action(list);

  const session = program.command('session').description('inspect and manage sessions');
  session.command('list').alias('ls').description('list sessions').argument('[project]').action(list);

  session
    .command('info')
    .description('everything known about one session')
    .argument('<id>')
    .action((id: string) =>
      withContext(globals(), async (ctx, g) => {
        const s = await ctx.manager.info(id);
        const events = ctx.manager.recentEvents(id, 10);
        if (g.json) return printJson({ ...publicSession(s), runtime_info: s.runtime_info, events });
        const rows: Array<[string, string]> = [
          ['id', s.id], ['project', s.project], ['status', colorStatus(s.status) + (s.unreachable ? ` (unreachable: ${s.unreachable_reason ?? 'error'})` : '')],
          ...(s.unreachable ? ([['unreachable', s.unreachable]] as Array<[string, string]>) : []),
          ['agent', s.agent], ['runtime', s.runtime_name], ['backend', s.backend], ['host', s.host], ['branch', s.branch],
          ['workspace', s.workspace_path], ['created', `${s.created_at} (${age(s.created_at)})`],
          ...(s.issue ? ([['issue', s.issue]] as Array<[string, string]>) : []),
          ...Object.entries(s.runtime_info),
        ];
        const width = Math.max(...rows.map(([k]) => k.length));
        process.stdout.write(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n');
        if (events.length) process.stdout.write(`\nrecent events:\n${events.map((e) => `  ${e.created_at}  ${e.type}`).join('\n')}\n`);
      }),
    );

  session
    .command('kill')
    .description('stop the agent and remove its workspace (branch and record are kept)')
    .argument('<id>')
    .action((id: string) =>
      withContext(globals(), async (ctx, g) => {
        const s = await ctx.manager.kill(id);
        if (g.json) printJson(publicSession(s));
        else process.stdout.write(`killed ${s.id} (branch ${s.branch} kept)\n`);
      }),
    );

  session
    .command('restore')
    .description('relaunch the agent of an exited or killed session')
    .argument('<id>')
    .action((id: string) =>
      withContext(globals(), async (ctx, g) => {
        const s = await ctx.manager.restore(id);
        if (g.json) printJson(publicSession(s));
        else process.stdout.write(`restored ${s.id} in ${s.workspace_path}\n`);
      }),
    );

  session
    .command('cleanup')
    .description('kill sessions whose agent has exited and free their workspaces')
    .option('--purge', 'also forget killed sessions')
    .action((opts: { purge?: boolean }) =>
      withContext(globals(), async (ctx, g) => {
        const result = await ctx.manager.cleanup(opts.purge ?? false);
        if (g.json) return printJson(result);
        process.stdout.write(`cleaned up ${result.killed.length} exited session(s)${result.killed.length ? `: ${result.killed.join(', ')}` : ''}\n`);
        if (opts.purge) process.stdout.write(`forgot ${result.purged.length} killed session(s)\n`);
      }),
    );
}
