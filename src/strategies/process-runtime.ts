import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EnnioError } from '../core/errors.js';
import { pidsWithEnv, processGroup, sameProcessAlive, startTicks } from '../core/proc.js';
import { tailLines, type Liveness } from '../ops/tmux.js';
import type { LaunchSpec, Runtime, RuntimeHandle } from './types.js';
import { currentEnv, definedEnv } from '../core/request-env.js';

/**
 * A plain child process whose output goes to a log file; no messages. A wrapper shell
 * records the exit status, and the pid is paired with its start time so a recycled pid
 * is never mistaken for the agent.
 */
export class ProcessRuntime implements Runtime {
  readonly name = 'process';
  readonly acceptsMessages = false;

  constructor(private readonly logDir: string) {}

  private files(name: string): { log: string; exitFile: string } {
    const log = join(this.logDir, `${name}.log`);
    return { log, exitFile: `${log}.exit` };
  }

  create(spec: LaunchSpec): Promise<RuntimeHandle> {
    mkdirSync(this.logDir, { recursive: true, mode: 0o700 });
    const { log, exitFile } = this.files(spec.name);
    const fd = openSync(log, 'a', 0o600);
    try {
      const child = spawn('sh', ['-c', '"$@"; echo $? > "$ENNIO_EXIT_FILE"', 'ennio-process', ...spec.command], {
        cwd: spec.cwd,
        env: { ...definedEnv(currentEnv()), ...spec.env, ENNIO_EXIT_FILE: exitFile },
        stdio: ['ignore', fd, fd],
        detached: true,
      });
      child.unref();
      if (child.pid === undefined) throw new EnnioError('COMMAND_FAILED', `could not start ${spec.command[0] ?? ''}`);
      return Promise.resolve({
        id: spec.name,
        runtimeName: this.name,
        data: { pid: String(child.pid), start: startTicks(child.pid) ?? '', log, exitFile },
      });
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The wrapper shell started for the session: the process-group leader whose environment
   * names this session's exit file (every process of the agent inherits it; the leader is
   * the one create() started, detached into its own group).
   */
  handleFor(sessionId: string): Promise<RuntimeHandle | undefined> {
    const { log, exitFile } = this.files(sessionId);
    const leader = pidsWithEnv('ENNIO_EXIT_FILE', exitFile).find((pid) => processGroup(pid) === pid);
    const start = leader === undefined ? undefined : startTicks(leader);
    if (leader === undefined || start === undefined) return Promise.resolve(undefined);
    return Promise.resolve({ id: sessionId, runtimeName: this.name, data: { pid: String(leader), start, log, exitFile } });
  }

  private alive(handle: RuntimeHandle): boolean {
    return sameProcessAlive(Number(handle.data['pid']), handle.data['start']);
  }

  destroy(handle: RuntimeHandle): Promise<void> {
    if (this.alive(handle)) {
      try {
        process.kill(-Number(handle.data['pid']), 'SIGTERM'); // the whole process group
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    }
    return Promise.resolve();
  }

  send(handle: RuntimeHandle): Promise<void> {
    return Promise.reject(
      new EnnioError('NOT_SUPPORTED', `session ${handle.id} uses the process runtime, which takes no messages`, {
        hint: 'use runtime: tmux for sessions you want to talk to',
      }),
    );
  }

  output(handle: RuntimeHandle, lines: number): Promise<string> {
    const log = handle.data['log'] ?? '';
    if (!existsSync(log)) return Promise.resolve('');
    const size = statSync(log).size;
    // Read only the tail: a long-running agent's log can be large.
    const fd = openSync(log, 'r');
    try {
      const want = Math.min(size, Math.max(64 * 1024, lines * 400));
      const buf = Buffer.alloc(want);
      readSyncAll(fd, buf, size - want);
      return Promise.resolve(tailLines(buf.toString('utf8'), lines));
    } finally {
      closeSync(fd);
    }
  }

  liveness(handle: RuntimeHandle): Promise<Liveness> {
    if (this.alive(handle)) return Promise.resolve('running');
    return Promise.resolve(existsSync(handle.data['exitFile'] ?? '') || handle.data['log'] ? 'exited' : 'missing');
  }

  info(handle: RuntimeHandle): Promise<Record<string, string>> {
    const exitFile = handle.data['exitFile'] ?? '';
    const info: Record<string, string> = { log: handle.data['log'] ?? '' };
    if (existsSync(exitFile)) info['exit_code'] = readFileSync(exitFile, 'utf8').trim();
    return Promise.resolve(info);
  }

  /** The log's modification time is when the output last changed. */
  async outputActivity(handle: RuntimeHandle, withText: boolean): Promise<{ changedAt: number; text?: string }> {
    const log = handle.data['log'] ?? '';
    const changedAt = existsSync(log) ? statSync(log).mtimeMs : 0;
    return withText ? { changedAt, text: await this.output(handle, 40) } : { changedAt };
  }

  attachArgv(handle: RuntimeHandle): Promise<string[]> {
    // Nothing to type into; following the log is the closest thing to attaching.
    return Promise.resolve(['tail', '-n', '50', '-f', handle.data['log'] ?? '']);
  }
}

function readSyncAll(fd: number, buf: Buffer, position: number): void {
  let off = 0;
  while (off < buf.length) {
    const n = readSync(fd, buf, off, buf.length - off, position + off);
    if (n === 0) break;
    off += n;
  }
}
