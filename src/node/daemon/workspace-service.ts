/**
 * CreateWorkspace / DestroyWorkspace: validate every field, then run the same
 * src/ops/git-workspace.ts operations the local backend uses, through the daemon's
 * LocalHost. Workspaces live at `<workspace root>/<project_id>/<session_id>`.
 */
import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { Code } from '@connectrpc/connect';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  CreateWorkspaceRequest,
  CreateWorkspaceResponseSchema,
  DestroyWorkspaceRequest,
  DestroyWorkspaceResponseSchema,
} from '../gen/ennio_node_pb.js';
import { assertBranchName, createWorkspace, isGitRepo, isRepositoryRoot, removeWorkspace, type WorkspaceSpec } from '../../ops/git-workspace.js';
import { expandHome, exists, removeTree } from '../../ops/fs.js';
import type { ServiceContext } from './context.js';
import { rpcError } from './errors.js';
import { assertSafeId, resolveConfinedPath, resolveDeletablePath } from './paths.js';

const invalid = (message: string): Error => rpcError(Code.InvalidArgument, message, 'INVALID_ARGUMENT');

function assertPlainText(field: string, value: string): void {
  // Control characters in a path or URL are never legitimate and make logs lie.
  if (/[\x00-\x1f\x7f]/.test(value)) throw invalid(`${field} contains control characters`);
}

function workspaceType(raw: string): WorkspaceSpec['type'] {
  if (raw === 'worktree' || raw === 'clone') return raw;
  if (raw === '') throw invalid('workspace_type is required: "worktree" or "clone"');
  throw invalid(`unknown workspace_type ${JSON.stringify(raw)}: expected "worktree" or "clone"`);
}

/**
 * The repository (worktree) or clone source `path`: inside the workspace root, or an
 * existing git repository — never a place the daemon would clone into elsewhere on the
 * host (the orchestrator clones a project's missing repository itself, over SSH).
 */
async function repoPath(ctx: ServiceContext, raw: string): Promise<string> {
  assertPlainText('path', raw);
  const path = await expandHome(ctx.host, raw);
  if (!posix.isAbsolute(path)) throw invalid(`path ${JSON.stringify(raw)} must be absolute (or start with ~/)`);
  return resolveConfinedPath(ctx.workspaceRoot, 'path', path, (real) => isRepositoryRoot(ctx.host, real));
}

export async function createWorkspaceRpc(
  ctx: ServiceContext,
  req: CreateWorkspaceRequest,
): Promise<MessageInitShape<typeof CreateWorkspaceResponseSchema>> {
  assertSafeId('project_id', req.projectId);
  assertSafeId('session_id', req.sessionId);
  const type = workspaceType(req.workspaceType);
  const defaultBranch = req.defaultBranch === '' ? 'main' : req.defaultBranch;
  await assertBranchName(ctx.host, defaultBranch);
  const branch = req.branch ?? `ennio/${req.sessionId}`;
  if (branch === '') throw invalid('branch must not be empty (leave it unset for ennio/<session_id>)');
  if (req.repoUrl !== '') {
    assertPlainText('repo_url', req.repoUrl);
    if (req.repoUrl.startsWith('-')) throw invalid(`repo_url ${JSON.stringify(req.repoUrl)} must not start with '-'`);
  }
  if (type === 'worktree' && req.path === '') throw invalid('path (the repository on this host) is required for a worktree');
  if (type === 'clone' && req.path === '' && req.repoUrl === '') throw invalid('a clone needs repo_url or path');
  const repo = req.path === '' ? '' : await repoPath(ctx, req.path);

  if (type === 'worktree') await assertRepoUsable(ctx, repo, req.repoUrl);

  const workspacePath = posix.join(ctx.workspaceRoot, req.projectId, req.sessionId);
  if (await exists(ctx.host, workspacePath)) {
    throw rpcError(Code.AlreadyExists, `workspace ${workspacePath} already exists`, 'INVALID_ARGUMENT', 'destroy the old session first');
  }
  const spec: WorkspaceSpec = { type, repoPath: repo, workspacePath, branch, defaultBranch, reuseBranch: req.reuseBranch };
  if (req.repoUrl !== '') spec.repoUrl = req.repoUrl;
  ctx.log.info('creating workspace', { type, project: req.projectId, session: req.sessionId, path: workspacePath, branch });
  const res = await createWorkspace(ctx.host, spec);
  return { workspacePath: res.path, createdBranch: res.createdBranch };
}

/**
 * A worktree needs its repository: present (a git repository), or missing with a
 * repo_url to clone it from. The same checks run again inside createWorkspace (src/ops);
 * made here first, they get their precise gRPC status — NOT_FOUND for a missing
 * repository, FAILED_PRECONDITION for a directory that is not one — where the ops'
 * INVALID_ARGUMENT would tell the client its request was malformed. The Ennio code in
 * the trailer stays INVALID_ARGUMENT, as a local run reports it.
 */
async function assertRepoUsable(ctx: ServiceContext, repo: string, repoUrl: string): Promise<void> {
  if (await isGitRepo(ctx.host, repo)) return;
  if (await exists(ctx.host, repo)) {
    throw rpcError(Code.FailedPrecondition, `${repo} exists on this host but is not a git repository`, 'INVALID_ARGUMENT');
  }
  if (repoUrl === '') {
    throw rpcError(Code.NotFound, `repository ${repo} does not exist on this host and no repo_url was given to clone it from`, 'INVALID_ARGUMENT', 'set repo: in ennio.yaml or create the repository at path');
  }
}

/** The main repository of a linked worktree, or undefined for a clone/plain directory. */
async function worktreeRepo(ctx: ServiceContext, path: string): Promise<string | undefined> {
  try {
    if ((await stat(posix.join(path, '.git'))).isDirectory()) return undefined; // a clone
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // a plain directory
    throw err;
  }
  const res = await ctx.host.exec(['git', '-C', path, 'rev-parse', '--path-format=absolute', '--git-common-dir']);
  const common = res.stdout.trim();
  if (res.code !== 0 || !common.endsWith('/.git')) return undefined;
  return common.slice(0, -'/.git'.length);
}

export async function destroyWorkspaceRpc(
  ctx: ServiceContext,
  req: DestroyWorkspaceRequest,
): Promise<MessageInitShape<typeof DestroyWorkspaceResponseSchema>> {
  const { real, exists: present } = await resolveDeletablePath(ctx.workspaceRoot, req.workspacePath);
  if (!present) return {}; // already gone: destroying is idempotent
  const repo = await worktreeRepo(ctx, real);
  ctx.log.info('destroying workspace', { path: real, worktree_of: repo });
  if (repo !== undefined) await removeWorkspace(ctx.host, 'worktree', repo, real);
  else await removeTree(ctx.host, real);
  return {};
}
