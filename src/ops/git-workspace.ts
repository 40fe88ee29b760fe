/**
 * Git workspace operations (worktree or clone) as argv, run through any Host.
 * Branch names are validated with git itself and always passed as single argv words.
 */
import { EnnioError } from '../core/errors.js';
import { execChecked, type Host } from '../host/host.js';
import { exists, mkdirp, removeTree } from './fs.js';

export async function assertBranchName(host: Host, branch: string): Promise<void> {
  if (branch.startsWith('-')) {
    throw new EnnioError('INVALID_ARGUMENT', `invalid branch name ${JSON.stringify(branch)}: it must not start with '-'`);
  }
  const res = await host.exec(['git', 'check-ref-format', '--branch', branch]);
  if (res.code === 127) throw gitMissing(host);
  if (res.code !== 0) {
    throw new EnnioError(
      'INVALID_ARGUMENT',
      `invalid branch name ${JSON.stringify(branch)}: git rejects it (no spaces, control characters, '..', '~', '^', ':', '?', '*', '[' or '\\')`,
    );
  }
}

export function gitMissing(host: Host): EnnioError {
  return new EnnioError('TOOL_MISSING', `git is not installed on ${host.label}`, { hint: 'install it (Debian: apt-get install git)' });
}

export async function branchExists(host: Host, repo: string, branch: string): Promise<boolean> {
  const res = await host.exec(['git', '-C', repo, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}`]);
  if (res.code === 127) throw gitMissing(host);
  return res.code === 0;
}

export async function isGitRepo(host: Host, path: string): Promise<boolean> {
  const res = await host.exec(['git', '-C', path, 'rev-parse', '--git-dir']);
  if (res.code === 127) throw gitMissing(host);
  return res.code === 0;
}

/**
 * Whether `path` (a real path) is the top of a git repository — its work tree, or a bare
 * repository's directory — not merely somewhere inside one (a home directory kept in git
 * would otherwise make every path below it "a repository").
 */
export async function isRepositoryRoot(host: Host, path: string): Promise<boolean> {
  const res = await host.exec(['git', '-C', path, 'rev-parse', '--is-bare-repository', '--absolute-git-dir']);
  if (res.code === 127) throw gitMissing(host);
  if (res.code !== 0) return false;
  const [bare, gitDir] = res.stdout.trim().split('\n');
  if (bare === 'true') return gitDir === path;
  const top = await host.exec(['git', '-C', path, 'rev-parse', '--show-toplevel']);
  return top.code === 0 && top.stdout.trim() === path;
}

/** Fetch origin when there is one; return the ref new branches start from. */
async function baseRef(host: Host, repo: string, defaultBranch: string): Promise<string> {
  const origin = await host.exec(['git', '-C', repo, 'remote', 'get-url', 'origin']);
  if (origin.code === 0) {
    const fetched = await host.exec(['git', '-C', repo, 'fetch', '--quiet', 'origin', defaultBranch], { timeoutMs: 120_000 });
    if (fetched.code === 0) return `origin/${defaultBranch}`;
    // Offline or no access: say so, and start from what the repository already has.
    process.stderr.write(`warning: git fetch origin ${defaultBranch} failed on ${host.label} (${fetched.stderr.trim().split('\n')[0] ?? ''}); starting from the local ${defaultBranch}\n`);
  }
  const local = await host.exec(['git', '-C', repo, 'rev-parse', '--verify', '--quiet', `refs/heads/${defaultBranch}`]);
  if (local.code !== 0) {
    throw new EnnioError('INVALID_ARGUMENT', `default_branch ${JSON.stringify(defaultBranch)} does not exist in ${repo} on ${host.label}`, {
      hint: 'set default_branch in ennio.yaml to an existing branch',
    });
  }
  return defaultBranch;
}

export interface WorkspaceSpec {
  type: 'worktree' | 'clone';
  /** The project's repository path (worktree) — cloned from repoUrl first when missing. */
  repoPath: string;
  repoUrl?: string;
  workspacePath: string;
  branch: string;
  defaultBranch: string;
  /** Reuse an existing branch (restore) instead of refusing it. */
  reuseBranch?: boolean;
}

export interface WorkspaceResult {
  path: string;
  /** Whether this call created the branch (so a failed spawn may delete it). */
  createdBranch: boolean;
}

/** The project's repository for a worktree: there already, or cloned from repoUrl (else a clear error). */
export async function ensureRepo(host: Host, spec: Pick<WorkspaceSpec, 'repoPath' | 'repoUrl'>): Promise<void> {
  if (await isGitRepo(host, spec.repoPath)) return;
  if (await exists(host, spec.repoPath)) {
    throw new EnnioError('INVALID_ARGUMENT', `${spec.repoPath} on ${host.label} exists but is not a git repository`);
  }
  if (!spec.repoUrl) {
    throw new EnnioError('INVALID_ARGUMENT', `${spec.repoPath} does not exist on ${host.label} and the project has no repo to clone`, {
      hint: 'set repo: in ennio.yaml or create the repository at path',
    });
  }
  await mkdirp(host, spec.repoPath.split('/').slice(0, -1).join('/') || '/');
  await execChecked(host, ['git', 'clone', '--quiet', '--', spec.repoUrl, spec.repoPath], { timeoutMs: 600_000 });
}

export async function createWorkspace(host: Host, spec: WorkspaceSpec): Promise<WorkspaceResult> {
  await assertBranchName(host, spec.branch);
  if (await exists(host, spec.workspacePath)) {
    throw new EnnioError('INVALID_ARGUMENT', `workspace path ${spec.workspacePath} already exists on ${host.label}`);
  }
  await mkdirp(host, spec.workspacePath.split('/').slice(0, -1).join('/') || '/');
  if (spec.type === 'clone') return createClone(host, spec);

  await ensureRepo(host, spec);
  const existing = await branchExists(host, spec.repoPath, spec.branch);
  if (existing && !spec.reuseBranch) {
    throw new EnnioError('BRANCH_EXISTS', `branch ${JSON.stringify(spec.branch)} already exists in ${spec.repoPath}`, {
      hint: 'choose another --branch, or delete the branch with git branch -D',
    });
  }
  if (existing) {
    await execChecked(host, ['git', '-C', spec.repoPath, 'worktree', 'prune']);
    await execChecked(host, ['git', '-C', spec.repoPath, 'worktree', 'add', '--quiet', '--', spec.workspacePath, spec.branch]);
    return { path: spec.workspacePath, createdBranch: false };
  }
  const base = await baseRef(host, spec.repoPath, spec.defaultBranch);
  await execChecked(host, ['git', '-C', spec.repoPath, 'worktree', 'add', '--quiet', '-b', spec.branch, '--', spec.workspacePath, base]);
  return { path: spec.workspacePath, createdBranch: true };
}

async function createClone(host: Host, spec: WorkspaceSpec): Promise<WorkspaceResult> {
  const source = spec.repoUrl ?? spec.repoPath;
  const res = await host.exec(['git', 'clone', '--quiet', '--branch', spec.defaultBranch, '--', source, spec.workspacePath], { timeoutMs: 600_000 });
  if (res.code === 127) throw gitMissing(host);
  try {
    if (res.code !== 0) throw new EnnioError('COMMAND_FAILED', `git clone of ${source} failed on ${host.label}: ${res.stderr.trim()}`);
    // In a clone the branch may exist on the remote: check it out then, else create it.
    const remoteHas = await host.exec(['git', '-C', spec.workspacePath, 'rev-parse', '--verify', '--quiet', `refs/remotes/origin/${spec.branch}`]);
    const argv = remoteHas.code === 0
      ? ['git', '-C', spec.workspacePath, 'checkout', '--quiet', spec.branch]
      : ['git', '-C', spec.workspacePath, 'checkout', '--quiet', '-b', spec.branch];
    await execChecked(host, argv);
  } catch (err) {
    await removeTree(host, spec.workspacePath); // a half-made clone is never left behind
    throw err;
  }
  return { path: spec.workspacePath, createdBranch: false };
}

/** Remove the workspace directory (and its worktree registration); keep the branch. */
export async function removeWorkspace(host: Host, type: 'worktree' | 'clone', repoPath: string, workspacePath: string): Promise<void> {
  if (type === 'worktree' && (await isGitRepo(host, repoPath))) {
    const res = await host.exec(['git', '-C', repoPath, 'worktree', 'remove', '--force', '--', workspacePath]);
    if (res.code !== 0 && (await exists(host, workspacePath))) await removeTree(host, workspacePath);
    await host.exec(['git', '-C', repoPath, 'worktree', 'prune']);
    return;
  }
  await removeTree(host, workspacePath);
}

export async function deleteBranch(host: Host, repoPath: string, branch: string): Promise<void> {
  await execChecked(host, ['git', '-C', repoPath, 'branch', '-D', '--', branch]);
}
