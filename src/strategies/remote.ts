/** Placeholder until the SSH layer lands: remote projects are routed here. */
import { EnnioError } from '../core/errors.js';
import type { ProjectConfig, SshConfig } from '../config/schema.js';
import type { Backend } from './types.js';

export function createRemoteBackend(project: ProjectConfig, _ssh: SshConfig, _home: string): Promise<Backend> {
  return Promise.reject(new EnnioError('NOT_SUPPORTED', `remote project ${project.name}: remote execution is not built yet`));
}

export async function closeAllRemote(): Promise<void> {}
