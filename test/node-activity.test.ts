/**
 * Activity through ennio-node's ListRuntimes (extension fields): the real daemon reads a
 * session's hook state file from an offset and its screen when asked, in the same call
 * that reports the runtimes' states; it reads nothing but a session's own state file. The
 * activity tracker takes those answers instead of a probe over SSH, and falls back to the
 * probe (one command) when a daemon answers without activity (an older build).
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActivityTracker } from '../src/activity/tracker.js';
import type { ActivitySeen } from '../src/activity/probe.js';
import { activityConfig } from '../src/config/schema.js';
import type { ExecOptions, ExecResult, Host } from '../src/host/host.js';
import { LocalHost } from '../src/host/local-host.js';
import { sweep } from '../src/lifecycle/sweep.js';
import { runtimeStates } from '../src/node/client/list-runtimes.js';
import { NodeClient } from '../src/node/client/node-client.js';
import { openStore, type Store } from '../src/store/db.js';
import type { Backend, BatchSweeper, Runtime, RuntimeHandle, RuntimeStatus } from '../src/strategies/types.js';
import { Cleanup, buildDaemonBundle, startDaemon, tcpDial, tempDir, tmux, uniqueSocket, waitUntil } from './helpers/node-daemon.js';

const cleanup = new Cleanup();
afterAll(() => cleanup.run());

let client: NodeClient;
let socket: string;
let dir: string;
let dataDir: string;
let daemonLog: () => string;

beforeAll(async () => {
  await buildDaemonBundle();
  dir = cleanup.dir(tempDir('node-activity'));
  dataDir = join(dir, 'data');
  socket = cleanup.socket(uniqueSocket('na'));
  const daemon = cleanup.daemon(await startDaemon({ workspaceRoot: join(dir, 'ws'), tmuxSocket: socket, logFile: join(dir, 'daemon.log'), env: { ENNIO_NODE_DEBUG: '1' } }));
  daemonLog = daemon.log;
  client = new NodeClient({ dial: tcpDial(daemon.port), token: () => undefined, label: 'test-node' });
  cleanup.add(() => client.close());
});

const stateFileOf = (id: string): string => join(dataDir, 'activity', `${id}.events`);
const hookLine = (event: string, conversation = 'conv-1'): string => `${Date.now()}\t${event}\t\t${conversation}\n`;

/** A runtime on the daemon that shows `text` and then waits. */
async function runtime(id: string, text: string): Promise<RuntimeHandle> {
  const cwd = join(dir, 'ws', id);
  mkdirSync(cwd, { recursive: true });
  const handle = await client.createRuntime({ sessionId: id, name: id, launchCommand: `echo ${text}; exec cat`, env: {}, cwd });
  await waitUntil(() => tmux(socket, 'capture-pane', '-p', '-t', `=${id}:`).stdout, (s) => s.includes(text), `${id} to draw`);
  return handle;
}

const activityOf = (states: Map<string, RuntimeStatus | Error>, id: string): ActivitySeen | undefined => (states.get(id) as RuntimeStatus).activity;

describe('ListRuntimes with activity on the real daemon', () => {
  it('returns new state-file lines from the offset, the host clock, and the screen only when asked', async () => {
    const h = await runtime('na-read', 'screen-of-na-read');
    mkdirSync(join(dataDir, 'activity'), { recursive: true });
    const first = hookLine('SessionStart') + hookLine('UserPromptSubmit');
    writeFileSync(stateFileOf(h.id), first);
    const ask = { stateFile: stateFileOf(h.id), offset: 0, capture: { unlessMark: '', minQuietS: 0 } };
    const states = (await client.listRuntimes([h], new Map([[h.id, ask]])))!;
    expect(states.get(h.id)).toMatchObject({ state: 'running' });
    const seen = activityOf(states, h.id)!;
    expect(seen).toMatchObject({ lines: first, from: 0 });
    expect(seen.screen).toContain('screen-of-na-read');
    expect(seen.clock.nowMs).toBeGreaterThan(Date.parse('2020-01-01'));
    expect(seen.clock.uptimeS).toBeGreaterThan(0);
    expect(seen.windowActivity).toBeGreaterThan(Date.parse('2020-01-01') / 1000);

    // Already read: nothing new, and no screen while the window has not changed since.
    appendFileSync(stateFileOf(h.id), hookLine('Stop'));
    const again = activityOf((await client.listRuntimes([h], new Map([[h.id, { ...ask, offset: first.length, capture: { unlessMark: String(seen.windowActivity), minQuietS: 0 } }]])))!, h.id)!;
    expect(again.lines).toMatch(/^\d+\tStop\t\tconv-1\n$/);
    expect(again.from).toBe(first.length);
    expect(again.screen).toBeUndefined();

    // Re-created (shorter than the offset): read from the start again.
    writeFileSync(stateFileOf(h.id), hookLine('SessionStart'));
    const recreated = activityOf((await client.listRuntimes([h], new Map([[h.id, { stateFile: stateFileOf(h.id), offset: 10_000 }]])))!, h.id)!;
    expect(recreated).toMatchObject({ from: 0, lines: expect.stringContaining('\tSessionStart\t') });
    expect(recreated.screen).toBeUndefined(); // not asked

    // Runtimes not asked about get no activity; a missing file is no lines yet.
    const other = await runtime('na-other', 'other');
    const mixed = (await client.listRuntimes([h, other], new Map([[other.id, { stateFile: stateFileOf(other.id), offset: 0 }]])))!;
    expect(activityOf(mixed, h.id)).toBeUndefined();
    expect(activityOf(mixed, other.id)).toMatchObject({ lines: '', from: 0 });
    const debug = daemonLog().split('\n').filter((l) => l.includes('"msg":"ListRuntimes"'));
    expect(debug.at(-1)).toContain('"activity_read":1');
  });

  it('reads no file but the session\'s own state file', async () => {
    const h = await runtime('na-guard', 'guard');
    writeFileSync(stateFileOf('na-secret'), 'secret\tStop\t\tx\n');
    writeFileSync(join(dir, 'na-guard.events'), 'outside\tStop\t\tx\n');
    for (const stateFile of ['/etc/passwd', stateFileOf('na-secret'), join(dir, 'na-guard.events'), `${dataDir}/activity/../activity/na-guard.events`, 'activity/na-guard.events']) {
      const seen = activityOf((await client.listRuntimes([h], new Map([[h.id, { stateFile, offset: 0 }]])))!, h.id);
      expect(seen, stateFile).toMatchObject({ lines: '' });
    }
  });
});

/** This machine, taken for the node's host over SSH (state files are read "remotely"), counting commands. */
class CountingHost implements Host {
  readonly label = 'node-host';
  readonly isRemote = true;
  readonly commands: string[][] = [];
  private readonly local = new LocalHost();
  exec(argv: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    this.commands.push([...argv]);
    return this.local.exec(argv, options);
  }
  homeDir(): Promise<string> {
    return this.local.homeDir();
  }
  close(): Promise<void> {
    return this.local.close();
  }
}

describe('the activity tracker with ennio-node', () => {
  let store: Store;
  beforeAll(() => {
    store = openStore(join(dir, 'home'));
    cleanup.add(() => store.close());
  });

  /** What the node strategy's sweeper does, with or without passing the tracker's asks on (an older daemon answers none). */
  function backend(host: Host, passAsks: boolean): Backend {
    const sweeper: BatchSweeper = {
      kind: 'batch',
      label: 'test-node',
      keyOf: () => 'test-node',
      check: (handles, asks) => runtimeStates(client, handles, passAsks ? asks : undefined),
    };
    const runtime = { name: 'tmux', sweeper, screenTarget: (h: RuntimeHandle) => ({ server: { socket: h.data['tmux_socket']! }, session: h.id }) } as unknown as Runtime;
    return { kind: 'ssh:node', host, workspaces: undefined as never, runtime, dataDir };
  }

  async function observe(id: string, b: Backend): Promise<{ activity: string | null; agent_session_id: string | null; calls: number }> {
    const tracker = new ActivityTracker(store.sessions, store.events, activityConfig.parse({}));
    const record = store.sessions.get(id)!;
    const round = await tracker.plan([{ record, backend: b }]);
    expect(round.probesFor(b.host)).toEqual([]); // nothing for an SSH sweep command
    const handle = JSON.parse(record.runtime_handle!) as RuntimeHandle;
    const report = await sweep([{ id, runtime: b.runtime, handle }], { activityAsks: [round.askFor] });
    const seen = new Map<string, ActivitySeen>();
    for (const h of report.hosts) for (const [sid, a] of h.activity ?? []) seen.set(sid, a);
    const fields = await round.finish(new Map([[id, true]]), new Map(), seen);
    return { ...fields.get(id)!, calls: report.hosts.reduce((n, h) => n + h.calls, 0) };
  }

  it('records hook events the daemon read in ListRuntimes, with no command on the host; an older daemon gets the SSH probe', async () => {
    const h = await runtime('na-track', 'tracked');
    store.sessions.insert({
      id: h.id, project: 'p', status: 'running', agent: 'claude-code', runtime_name: 'tmux', backend: 'ssh:node', host: 'node-host',
      branch: 'b', workspace_path: join(dir, 'ws', h.id), workspace_type: 'worktree', repo_path: dir, runtime_handle: JSON.stringify(h),
    });
    writeFileSync(stateFileOf(h.id), hookLine('SessionStart') + hookLine('UserPromptSubmit') + hookLine('PreToolUse') + hookLine('Stop'));

    const host = new CountingHost();
    const viaDaemon = await observe(h.id, backend(host, true));
    expect(viaDaemon).toEqual(expect.objectContaining({ activity: 'idle', agent_session_id: 'conv-1', calls: 1 }));
    expect(host.commands).toEqual([]);
    const history = store.events.list(h.id).filter((e) => e.type === 'activity').map((e) => (e.detail as { activity: string }).activity);
    expect(history).toEqual(['idle', 'working', 'idle']);

    appendFileSync(stateFileOf(h.id), hookLine('UserPromptSubmit', 'conv-2'));
    const viaProbe = await observe(h.id, backend(host, false));
    expect(viaProbe).toEqual(expect.objectContaining({ activity: 'working', agent_session_id: 'conv-2', calls: 1 }));
    expect(host.commands).toHaveLength(1);
    expect(host.commands[0]![0]).toBe('sh'); // the probe: one command for the node's tmux server

    // And back through the daemon: the cursor both readers share continues where the probe stopped.
    appendFileSync(stateFileOf(h.id), hookLine('Stop', 'conv-2'));
    expect(await observe(h.id, backend(host, true))).toEqual(expect.objectContaining({ activity: 'idle', calls: 1 }));
    expect(host.commands).toHaveLength(1);
  });
});
