/** spawn, status, session list|info|kill|restore|cleanup. */
import type { Command } from 'commander';
import { withApi } from './api-link.js';
import type { GlobalOptions } from './context.js';
import { infoBody, listBody } from './hot-actions.js';
import { printJson } from './output.js';

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
      withApi(globals(), async (api) => {
        const session = await api.spawn({ project: projectName, ...opts });
        if (globals().json) printJson(session);
        else process.stdout.write(`${session.id}\n`);
      }),
    );

  const list = (projectName: string | undefined): Promise<void> => withApi(globals(), (api) => listBody(api, globals(), projectName));

  program.command('status').description('sessions and their checked status').argument('[project]').action(list);

  const session = program.command('session').description('inspect and manage sessions');
  session.command('list').alias('ls').description('list sessions').argument('[project]').action(list);

  session
    .command('info')
    .description('everything known about one session')
    .argument('<id>')
    .action((id: string) => withApi(globals(), (api) => infoBody(api, globals(), id)));

  session
    .command('kill')
    .description('stop the agent and remove its workspace (branch and record are kept)')
    .argument('<id>')
    .action((id: string) =>
      withApi(globals(), async (api) => {
        const s = await api.kill(id);
        if (globals().json) printJson(s);
        else process.stdout.write(`killed ${s.id} (branch ${s.branch} kept)\n`);
      }),
    );

  session
    .command('restore')
    .description('relaunch the agent of an exited or killed session')
    .argument('<id>')
    .action((id: string) =>
      withApi(globals(), async (api) => {
        const s = await api.restore(id);
        if (globals().json) printJson(s);
        else process.stdout.write(`restored ${s.id} in ${s.workspace_path}\n`);
      }),
    );

  session
    .command('cleanup')
    .description('kill sessions whose agent has exited and free their workspaces')
    .option('--purge', 'also forget killed sessions')
    .action((opts: { purge?: boolean }) =>
      withApi(globals(), async (api) => {
        const result = await api.cleanup(opts.purge ?? false);
        if (globals().json) return printJson(result);
        process.stdout.write(`cleaned up ${result.killed.length} exited session(s)${result.killed.length ? `: ${result.killed.join(', ')}` : ''}\n`);
        if (opts.purge) process.stdout.write(`forgot ${result.purged.length} killed session(s)\n`);
      }),
    );
}
