import type { Host } from '../host/host.js';
import * as tmux from '../ops/tmux.js';
import type { HostProbe, ProbeResult } from '../ops/host-probes.js';
import type { HostProbeSweeper, LaunchSpec, Runtime, RuntimeHandle, RuntimeStatus, ScreenTarget, TerminalSize, TerminalStream } from './types.js';
import { openTmuxTerminal } from './tmux-terminal.js';
import { currentEnv } from '../core/request-env.js';
import { ennioHome } from '../core/home.js';
import { withEnvFile, writeEnvFile } from './caller-env.js';

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

/** Names a tmux server within its host: sessions with equal keys share one `list-panes -a`. */
export function tmuxProbeKey(server: tmux.TmuxServer): string {
  const program = server.program ?? 'tmux';
  if (server.socketPath) return `${program}:S:${server.socketPath}`;
  return `${program}:L:${server.socket ?? 'default'}`;
}

/** A session's status from the panes of its server. */
export function statusFromPanes(panes: ReadonlyMap<string, tmux.PaneState>, name: string): RuntimeStatus {
  const pane = panes.get(name);
  if (!pane) return { state: 'missing' };
  return {
    state: pane.dead ? 'exited' : 'running',
    ...(pane.dead && pane.exitStatus !== undefined ? { exitCode: pane.exitStatus } : {}),
    ...(pane.currentCommand ? { currentCommand: pane.currentCommand } : {}),
    ...(pane.activityAt !== undefined ? { activityAt: pane.activityAt } : {}),
  };
}

/** Sweeps tmux sessions on `host`: one `list-panes -a` per tmux server answers for all of them. */
export function tmuxSweeper(host: Host): HostProbeSweeper {
  // Every session of a server reads the same result: parse it once, not once per session.
  const parsed = new WeakMap<ProbeResult, Map<string, tmux.PaneState>>();
  // ...and ask with one probe object per server: a sweep asks once per session.
  const probes = new Map<string, HostProbe>();
  return {
    kind: 'host-probe',
    host,
    probeFor(handle) {
      const server = serverFromHandle(handle);
      const key = tmuxProbeKey(server);
      let probe = probes.get(key);
      if (!probe) probes.set(key, (probe = { key, argv: tmux.listPanesArgv(server) }));
      return probe;
    },
    statusOf(handle, result) {
      let panes = parsed.get(result);
      if (!panes) parsed.set(result, (panes = tmux.panesFromResult(result, host.label, serverFromHandle(handle))));
      return statusFromPanes(panes, handle.id);
    },
  };
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
  readonly sweeper: HostProbeSweeper;

  constructor(
    protected readonly host: Host,
    protected readonly server: tmux.TmuxServer = defaultTmuxServer(),
    /** Builds the interactive attach command for this host (local: tmux attach; remote: ssh -t …). */
    private readonly wrapAttach: (remoteArgv: string[]) => Promise<string[]> = (argv) => Promise.resolve(argv),
  ) {
    // tmate and remote_control keep the agent in an ordinary tmux session: the same sweep.
    this.sweeper = tmuxSweeper(host);
  }

  async create(spec: LaunchSpec): Promise<RuntimeHandle> {
    // Locally the agent gets the requesting shell's environment, not the tmux server's
    // (remotely it is the login environment of the host, plus spec.env).
    const envFile = this.host.isRemote ? undefined : writeEnvFile(ennioHome(currentEnv()), { ...currentEnv(), ...spec.env });
    try {
      await tmux.createSession(this.host, this.server, {
        name: spec.name,
        cwd: spec.cwd,
        env: spec.env,
        command: envFile ? withEnvFile(spec.command, envFile.path) : spec.command,
      });
    } catch (err) {
      envFile?.remove();
      throw err;
    }
    return { id: spec.name, runtimeName: this.name, data: handleData(this.server) };
  }

  /** tmux session names are the session ids, on this runtime's server. */
  handleFor(sessionId: string): Promise<RuntimeHandle | undefined> {
    return Promise.resolve({ id: sessionId, runtimeName: this.name, data: handleData(this.server) });
  }

  destroy(handle: RuntimeHandle): Promise<void> {
    return tmux.killSession(this.host, serverFromHandle(handle), handle.id);
  }

  send(handle: RuntimeHandle, message: string): Promise<void> {
    // Says itself when the session is gone or its agent exited (nothing is typed then).
    return tmux.sendMessage(this.host, serverFromHandle(handle), handle.id, message);
  }

  output(handle: RuntimeHandle, lines: number): Promise<string> {
    return tmux.capture(this.host, serverFromHandle(handle), handle.id, lines);
  }

  liveness(handle: RuntimeHandle): Promise<tmux.Liveness> {
    return tmux.liveness(this.host, serverFromHandle(handle), handle.id);
  }

  openTerminal(handle: RuntimeHandle, size: TerminalSize): Promise<TerminalStream> {
    return openTmuxTerminal(this.host, serverFromHandle(handle), handle.id, size);
  }

  screenTarget(handle: RuntimeHandle): ScreenTarget {
    return { server: serverFromHandle(handle), session: handle.id };
  }

  attachArgv(handle: RuntimeHandle): Promise<string[]> {
    return this.wrapAttach([...tmux.tmuxBase(serverFromHandle(handle)), 'attach-session', '-t', tmux.exactTarget(handle.id)]);
  }
}
