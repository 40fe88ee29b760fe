import type { Host } from '../host/host.js';
import { expandHome, joinPath } from '../ops/fs.js';
import { createWorkspace, deleteBranch, removeWorkspace } from '../ops/git-workspace.js';
import type { WorkspaceProvider } from './types.js';

/** Workspaces made with src/ops/git-workspace.ts on any Host (local or over SSH). */
export class HostWorkspaces implements WorkspaceProvider {
  constructor(
    private readonly host: Host,
    /** Root for workspaces on that host; may start with ~. */
    private readonly root: string,
  ) {}

  create: WorkspaceProvider['create'] = (spec) => createWorkspace(this.host, spec);

  remove: WorkspaceProvider['remove'] = (spec) => removeWorkspace(this.host, spec.type, spec.repoPath, spec.workspacePath);

  deleteBranch: WorkspaceProvider['deleteBranch'] = (repoPath, branch) => deleteBranch(this.host, repoPath, branch);

  async workspaceRoot(project: string): Promise<string> {
    return joinPath(await expandHome(this.host, this.root), project);
  }
}
