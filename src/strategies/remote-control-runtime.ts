/**
 * strategy: remote_control. `claude remote-control` runs in the workspace inside a tmux
 * session on the remote host; it prints a session URL that `session info` shows. Sending
 * and logs go through that tmux session like any other.
 */
import type { Host } from '../host/host.js';
import type { TmuxServer } from '../ops/tmux.js';
import { TmuxRuntime } from './tmux-runtime.js';
import type { LaunchSpec, RuntimeHandle } from './types.js';

/** The URL claude remote-control prints (a claude.ai link preferred over any other https URL). */
export function findSessionUrl(output: string): string | undefined {
  const urls = output.match(/https:\/\/[^\s"'<>]+/g) ?? [];
  return urls.find((u) => /claude\.ai\//.test(u)) ?? urls[0];
}

export class RemoteControlRuntime extends TmuxRuntime {
  override readonly name = 'remote_control';
  /** The program this runtime launches, whatever the project's agent is. */
  readonly requiredProgram = 'claude';
  /** It runs its own command, so a prompt has to be typed in. */
  readonly typesPrompt = true;

  constructor(host: Host, server: TmuxServer, wrapAttach: (argv: string[]) => Promise<string[]>, private readonly extraArgs: readonly string[]) {
    super(host, server, wrapAttach);
  }

  override async create(spec: LaunchSpec): Promise<RuntimeHandle> {
    const handle = await super.create({ ...spec, command: ['claude', 'remote-control', ...this.extraArgs] });
    return { ...handle, runtimeName: this.name };
  }

  async info(handle: RuntimeHandle): Promise<Record<string, string>> {
    const url = findSessionUrl(await this.output(handle, 2000));
    return { remote_control_url: url ?? 'not printed yet' };
  }
}
