/**
 * Creating and preparing a workspace and launching an agent in it — shared by spawn and restore.
 * Every step registers its undo, so a failure leaves nothing half-created.
 */
import { agentPlugin } from '../agents/index.js';
import type { AgentLaunch } from '../agents/types.js';
import type { EnnioConfig, ProjectConfig, WorkspaceType } from '../config/schema.js';
import { EnnioError } from '../core/errors.js';
import type { Host } from '../host/host.js';
import { resolve } from 'node:path';
import { createSymlink, expandHome, joinPath, writeFileOn } from '../ops/fs.js';
import { workspaceFiles } from '../ops/workspace-files.js';
import { prepareActivity } from '../activity/install.js';
import type { Backend, RuntimeHandle } from '../strategies/types.js';
import type { Interrupt } from './interrupt.js';

export type Undo = () => Promise<void>;

/** Runs undos newest-first; an undo that fails is reported but does not stop the others. */
export async function rollback(undos: Undo[]): Promise<string[]> {
  const problems: string[] = [];
  for (const undo of undos.reverse()) {
    try {
      await undo();
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  }
  return problems;
}

/** An error whose rollback left something behind says so, instead of implying all is clean. */
export function withCleanupProblems(err: unknown, problems: string[]): unknown {
  if (problems.length === 0 || !(err instanceof EnnioError)) return err;
  return new EnnioError(err.code, `${err.message}\nundoing it failed too, remove by hand: ${problems.join('; ')}`, {
    cause: err,
    ...(err.hint ? { hint: err.hint } : {}),
  });
}

export function agentNameFor(config: EnnioConfig, project: ProjectConfig, override?: string): string {
  return override ?? project.agent ?? config.defaults.agent;
}

/** Fail before creating anything when the agent's program is not on the host. */
export async function assertAgentInstalled(backend: Backend, project: ProjectConfig, agent: string): Promise<void> {
  const host = backend.host;
  const plugin = agentPlugin(agent);
  const program = backend.runtime.requiredProgram ?? plugin.program(project.agent_config ?? { args: [] });
  if (!program) return;
  const res = await host.exec(['sh', '-c', 'command -v -- "$1"', 'ennio-check', program]);
  if (res.code !== 0) {
    throw new EnnioError('AGENT_NOT_FOUND', `agent program ${JSON.stringify(program)} (agent ${agent}) is not installed on ${host.label}`, {
      hint: agent === 'custom' ? 'fix agent_config.command in ennio.yaml' : `install ${program} there, or choose another agent with --agent`,
    });
  }
}

/** The project's repository path on its host: ~ expanded there; relative paths from the config's folder (local) or home (remote). */
export async function repoPathFor(host: Host, project: ProjectConfig, configDir: string): Promise<string> {
  const path = await expandHome(host, project.path);
  if (path.startsWith('/')) return path;
  return host.isRemote ? joinPath(await host.homeDir(), path) : resolve(configDir, path);
}

/**
 * post_create runs with its output in a temp file that is printed afterwards: a job it
 * leaves in the background (`npm run dev &`) then holds that file, never the pipes ennio
 * reads — over SSH those belong to a long-lived shell channel shared by later commands.
 */
const POST_CREATE_WRAPPER =
  // In the workspace's git dir: invisible to git status, and removed with the workspace even
  // when this shell is SIGKILLed before its trap can run.
  'gd=$(git rev-parse --absolute-git-dir 2>/dev/null) && log="$gd/ennio-post-create.$$.log" || log=$(mktemp) || exit 125; ' +
  'trap \'rm -f "$log"\' EXIT; trap \'exit 130\' INT; trap \'exit 143\' TERM HUP; ' +
  'sh -c "$1" >"$log" 2>&1 </dev/null; s=$?; cat "$log"; exit $s';

export async function prepareWorkspace(host: Host, project: ProjectConfig, repoPath: string, workspace: string, env: Record<string, string>): Promise<void> {
  for (const link of project.symlinks) await createSymlink(host, repoPath, workspace, link.source, link.target);
  for (const command of project.post_create) {
    const res = await host.exec(['sh', '-c', POST_CREATE_WRAPPER, 'ennio-post-create', command], { cwd: workspace, env, timeoutMs: 15 * 60_000 });
    if (res.code !== 0) {
      const output = `${res.stdout}${res.stderr}`.trim();
      throw new EnnioError('POST_CREATE_FAILED', `post_create command failed (exit ${res.code}) on ${host.label}: ${command}${output ? `\n${output}` : ''}`, {
        hint: 'fix the command in post_create (the half-made workspace is removed)',
      });
    }
  }
}

export interface LaunchInput {
  sessionId: string;
  project: ProjectConfig;
  agent: string;
  workspace: string;
  env: Record<string, string>;
  prompt?: string;
  /** The agent's conversation to continue (restore). */
  resume?: string;
}

/** A session's new workspace: where it goes, on which branch, and what its agent starts with. */
export interface NewWorkspace {
  id: string;
  agent: string;
  branch: string;
  repoPath: string;
  workspacePath: string;
  workspaceType: WorkspaceType;
  /** Check out the session's existing branch (restore) instead of creating it. */
  reuseBranch: boolean;
  issue?: string | undefined;
  prompt?: string | undefined;
  resume?: string | undefined;
}

/** Create the workspace (spawn, or restore when it is gone), prepare it and launch the agent in it; Ctrl-C stops between steps. */
export async function createAndLaunch(backend: Backend, project: ProjectConfig, s: NewWorkspace, undos: Undo[], interrupt?: Interrupt): Promise<RuntimeHandle> {
  const created = await backend.workspaces.create({
    type: s.workspaceType, repoPath: s.repoPath, workspacePath: s.workspacePath, branch: s.branch,
    defaultBranch: project.default_branch, reuseBranch: s.reuseBranch, ...(project.repo ? { repoUrl: project.repo } : {}),
  });
  if (created.createdBranch) undos.push(() => backend.workspaces.deleteBranch(s.repoPath, s.branch));
  undos.push(() => backend.workspaces.remove({ type: s.workspaceType, repoPath: s.repoPath, workspacePath: created.path }));
  const env: Record<string, string> = {
    ENNIO_SESSION_ID: s.id, ENNIO_PROJECT: project.name, ENNIO_WORKSPACE: created.path, ENNIO_BRANCH: s.branch,
    ...(s.issue ? { ENNIO_ISSUE: s.issue } : {}),
  };
  interrupt?.check();
  await prepareWorkspace(backend.host, project, s.repoPath, created.path, env);
  interrupt?.check();
  return launchAgent(backend, { sessionId: s.id, project, agent: s.agent, workspace: created.path, env, ...(s.prompt ? { prompt: s.prompt } : {}), ...(s.resume ? { resume: s.resume } : {}) }, undos);
}

/**
 * tmux refuses a command of more than about 16 kB (`command too long`), and the launch
 * argv travels inside one: a longer prompt is typed in after start-up instead.
 */
const MAX_LAUNCH_BYTES = 12_000;

/** Write the agent's files, start it, and type its first prompt when its CLI wants that. */
export async function launchAgent(backend: Backend, input: LaunchInput, undos: Undo[]): Promise<RuntimeHandle> {
  const plugin = agentPlugin(input.agent);
  // Hooks first: the agent reports its first event (SessionStart) as it starts.
  const activity = await prepareActivity(backend.host, backend.dataDir, input.sessionId);
  await plugin.activity.installHooks?.(workspaceFiles(backend.host, input.workspace), activity);
  const build = (prompt: string | undefined): AgentLaunch =>
    plugin.launch({
      sessionId: input.sessionId,
      workspace: input.workspace,
      config: input.project.agent_config ?? { args: [] },
      activity,
      ...(input.project.agent_rules ? { rules: input.project.agent_rules } : {}),
      ...(prompt ? { prompt } : {}),
      ...(input.resume ? { resume: input.resume } : {}),
    });
  let launch = build(input.prompt);
  if (input.prompt && Buffer.byteLength(launch.command.join(' ')) > MAX_LAUNCH_BYTES) {
    launch = { ...build(undefined), typedPrompt: input.prompt };
  }
  for (const file of launch.files ?? []) await writeFileOn(backend.host, file.path, file.content);
  const env = { ...input.env };
  const typed = backend.runtime.typesPrompt ? input.prompt : launch.typedPrompt;
  if (typed && backend.runtime.name === 'process') env['ENNIO_PROMPT'] = typed;
  const handle = await backend.runtime.create({ sessionId: input.sessionId, name: input.sessionId, cwd: input.workspace, env, command: launch.command });
  undos.push(() => backend.runtime.destroy(handle));
  if (typed && backend.runtime.name !== 'process') await typeFirstPrompt(backend, handle, typed);
  return handle;
}

/** Wait until the program has drawn something (it is up and reading), then type the prompt. */
async function typeFirstPrompt(backend: Backend, handle: RuntimeHandle, prompt: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const state = await backend.runtime.liveness(handle);
    if (state !== 'running') {
      const tail = state === 'exited' ? await backend.runtime.output(handle, 20) : '';
      throw new EnnioError('COMMAND_FAILED', `the agent ${state === 'exited' ? 'exited right after starting' : 'session vanished right after starting'}${tail ? `:\n${tail}` : ''}`, {
        hint: 'check the agent command (agent_config) by running it by hand in the workspace',
      });
    }
    if ((await backend.runtime.output(handle, 50)).trim() !== '') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await backend.runtime.send(handle, prompt);
}
