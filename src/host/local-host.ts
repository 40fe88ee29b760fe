import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { StreamEnd, type ExecOptions, type ExecResult, type Host, type HostStream } from './host.js';
import { currentAbortSignal, currentEnv, definedEnv } from '../core/request-env.js';

/** SIGKILL a process and all its descendants (children found through /proc). */
function killTree(pid: number): void {
  const children = (() => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []; // already gone
      throw err;
    }
  })();
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  for (const c of children) killTree(c);
}

/**
 * The environment a command runs with: the caller's, without $TMUX and $TMUX_PANE. tmux
 * follows $TMUX to a server when no -L/-S is given, also from inside the sweep's `sh -c`
 * scripts: an `ennio` typed in a pane of another tmux server would look for ennio's
 * default-server sessions there, not find them, and record them as exited. ennio names
 * its tmux server itself (-L, or the default); nothing it runs here is inside the caller's pane.
 */
function envFor(extra: Record<string, string> = {}): Record<string, string> {
  const env = { ...definedEnv(currentEnv()), ...extra };
  delete env['TMUX'];
  delete env['TMUX_PANE'];
  return env;
}

/** Runs argv on this machine with child_process.spawn (never through a shell). */
export class LocalHost implements Host {
  readonly label = 'local';
  readonly isRemote = false;

  exec(argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const [file, ...args] = argv;
    if (file === undefined) return Promise.reject(new Error('LocalHost.exec: empty argv'));
    return new Promise((resolve) => {
      const child = spawn(file, args, {
        cwd: options.cwd,
        env: envFor(options.env),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              // The whole tree: a wrapper shell's children would otherwise outlive the timeout.
              if (child.pid !== undefined) killTree(child.pid);
            }, options.timeoutMs);
      // A request interrupted by its client (the orchestrator's stand-in for Ctrl-C) ends the
      // commands running at that moment, as Ctrl-C in a terminal would; the rollback that
      // follows starts after the abort and runs to completion.
      const abort = currentAbortSignal();
      const onAbort = (): void => {
        if (child.pid !== undefined) killTree(child.pid);
      };
      if (abort && !abort.aborted) abort.addEventListener('abort', onAbort, { once: true });
      child.on('close', () => abort?.removeEventListener('abort', onAbort));
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', (e: NodeJS.ErrnoException) => {
        if (timer) clearTimeout(timer);
        // ENOENT for the program itself (or a missing cwd) reads like a shell's 127.
        const code = e.code === 'ENOENT' ? 127 : 126;
        const why = e.code === 'ENOENT' && options.cwd ? `${file}: not found (or missing directory ${options.cwd})` : `${file}: ${e.message}`;
        resolve({ code, stdout: '', stderr: why });
      });
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({
          code: timedOut ? 124 : (code ?? (signal ? 128 : 1)),
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        });
      });
      child.stdin.on('error', () => {
        /* the program may exit before reading its stdin; its exit status tells the story */
      });
      child.stdin.end(options.input ?? '');
    });
  }

  openStream(argv: readonly string[]): Promise<HostStream> {
    const [file, ...args] = argv;
    if (file === undefined) return Promise.reject(new Error('LocalHost.openStream: empty argv'));
    const child = spawn(file, args, { env: envFor(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    const end = new StreamEnd();
    const finish = (why: string): void => end.finish(why);
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-2000)));
    child.on('error', (e) => finish(`${file}: ${e.message}`));
    child.on('close', (code, signal) => finish(stderr.trim() || `${file} exited (${code ?? signal})`));
    child.stdin.on('error', () => {
      /* it exited; 'close' says why */
    });
    return Promise.resolve({
      onData: (l) => void child.stdout.on('data', l),
      onClose: (l) => end.listen(l),
      write: (data) => void child.stdin.write(data),
      close: () => {
        child.stdin.end();
        setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 2000).unref();
      },
    });
  }

  homeDir(): Promise<string> {
    return Promise.resolve(homedir());
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
