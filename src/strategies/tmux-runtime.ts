import { EnnioError } from '../core/errors.js';
import type { Host } from '../host/host.js';
import * as tmux from '../ops/tmux.js';
import type { LaunchSpec, Runtime, RuntimeHandle, ScreenTarget } from './types.js';
import { currentEnv } from '../core/request-env.js';

/** Where the handle keeps the tmux server, so any later process reaches the same one. */
export function serverFromHandle(handle: RuntimeHandle): tmux.TmuxServer {
  const server: tmux.TmuxServer = {};
  if (handle.data['socket']) server.socket = handle.data['socket'];
  if (handle.data['socketPath']) server.socketPath = handle.data['socketPath'];
  if (handle.data['program']) server.program = handle.data['program'];
  return server;
}

export function handleData(server: tmux.TmuxServer): Record<string, string> {
  const data: Record<string, string> = {};
  if (server.socket) data['socket'] = server.socket;
  if (server.socketPath) data['socketPath'] = server.socketPath;
  if (server.program) data['program'] = server.program;
  return data;
}

/** tmux server for new sessions: ENNIO_TMUX_SOCKET isolates tests and demos (`tmux -L`). */
export function defaultTmuxServer(): tmux.TmuxServer {
  const socket = currentEnv()['ENNIO_TMUX_SOCKET'];
  return socket ? { socket } : {};
}

/**
 * The agent in a tmux session on `host`. The same class serves local sessions and
 * remote ones over SSH: only the Host differs.
 */
export class TmuxRuntime implements Runtime {
  readonly name: string = 'tmux';

  constructor(
    protected readonly host: Host,
    protected readonly server: tmux.TmuxServer = defaultTmuxServer(),
    /** Builds the interactive attach command for this host (local: tmux attach; remote: ssh -t …). */
    private readonly wrapAttach: (remoteArgv: string[]) => Promise<string[]> = (argv) => Promise.resolve(argv),
  ) {}

  async create(spec: LaunchSpec): Promise<RuntimeHandle> {
    await tmux.createSession(this.host, this.server, {
      name: spec.name,
      cwd: spec.cwd,
      env: spec.env,
      command: spec.command,
    });
    return { id: spec.name, runtimeName: this.name, data: handleData(this.server) };
  }

  destroy(handle: RuntimeHandle): Promise<void> {
    return tmux.killSession(this.host, serverFromHandle(handle), handle.id);
  }

  async send(handle: RuntimeHandle, message: string): Promise<void> {
    const server = serverFromHandle(handle);
    const state = await tmux.liveness(this.host, server, handle.id);
    if (state !== 'running') {
      throw new EnnioError('SESSION_STATE', `session ${handle.id} is not running (${state}); the message was not sent`, {
        hint: `restore it with: ennio session restore ${handle.id}`,
      });
    }
    await tmux.sendMessage(this.host, server, handle.id, message);
  }

  output(handle: RuntimeHandle, lines: number): Promise<string> {
    return tmux.capture(this.host, serverFromHandle(handle), handle.id, lines);
  }

  liveness(handle: RuntimeHandle): Promise<tmux.Liveness> {
    return tmux.liveness(this.host, serverFromHandle(handle), handle.id);
  }

  screenTarget(handle: RuntimeHandle): ScreenTarget {
    return { server: serverFromHandle(handle), session: handle.id };
  }

  attachArgv(handle: RuntimeHandle): Promise<string[]> {
    return this.wrapAttach([...tmux.tmuxBase(serverFromHandle(handle)), 'attach-session', '-t', tmux.exactTarget(handle.id)]);
  }
}
