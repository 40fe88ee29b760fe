/**
 * Structured log lines for the daemon: one JSON object per line, to stderr or a file.
 *
 * Writes are synchronous on purpose: the daemon logs a few lines per call at most, and a
 * synchronous write means the last lines before process.exit() are never lost. Nothing
 * in the daemon passes request headers or the auth token to the logger.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  /** Written only when the daemon runs with ENNIO_NODE_DEBUG=1 (e.g. every sweep's ListRuntimes). */
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  close(): void;
}

export function createLogger(file?: string, options: { debug?: boolean } = {}): Logger {
  // 0600: the log names workspace paths and commands; nobody else needs to read it.
  const fd = file === undefined ? 2 : openSync(file, 'a', 0o600);
  const write = (level: LogLevel, msg: string, fields?: LogFields): void => {
    const line = JSON.stringify({ time: new Date().toISOString(), level, msg, pid: process.pid, ...fields });
    try {
      writeSync(fd, `${line}\n`);
    } catch {
      // A closed stderr (detached daemon whose log file was removed) must not crash
      // the daemon: logging is best effort, serving calls is not.
    }
  };
  return {
    debug: options.debug ? (msg, fields) => write('debug', msg, fields) : () => {},
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    close: () => {
      if (fd !== 2) closeSync(fd);
    },
  };
}
