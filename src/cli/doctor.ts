/** `ennio doctor`: what this machine has, what is missing, and how to fix it. */
import type { Command } from 'commander';
import pc from 'picocolors';
import { findConfig } from '../config/discover.js';
import { loadConfig } from '../config/load.js';
import type { ProjectConfig } from '../config/schema.js';
import { EnnioError } from '../core/errors.js';
import { LocalHost } from '../host/local-host.js';
import { closeAllSshHosts, sshHostForConfig } from '../host/ssh/registry.js';
import { openStore } from '../store/db.js';
import type { GlobalOptions } from './context.js';
import { printJson } from './output.js';

interface Check {
  name: string;
  ok: boolean;
  required: boolean;
  detail: string;
  fix?: string;
}

async function tool(name: string, argv: string[], required: boolean, fix: string): Promise<Check> {
  const res = await new LocalHost().exec(argv, { timeoutMs: 10_000 });
  const version = `${res.stdout}${res.stderr}`.split('\n')[0]?.trim() ?? '';
  return res.code === 0 || (res.code !== 127 && version)
    ? { name, ok: true, required, detail: version }
    : { name, ok: false, required, detail: 'not found', fix };
}

/** What each strategy needs on the remote host, besides a shell. */
const REMOTE_TOOLS: Record<string, string[]> = {
  tmux: ['git', 'tmux'],
  tmate: ['git', 'tmux', 'tmate'],
  remote_control: ['git', 'tmux', 'claude'],
  node: ['git', 'tmux', 'node'],
};

/** Connect (host key, auth) and look for the strategy's tools on a remote project's host. */
async function remoteCheck(project: ProjectConfig): Promise<Check> {
  const ssh = project.ssh_config!;
  const name = `remote ${project.name}`;
  try {
    const host = await sshHostForConfig(ssh);
    const tools = REMOTE_TOOLS[ssh.strategy] ?? ['git', 'tmux'];
    const res = await host.exec(['sh', '-c', 'for t in "$@"; do command -v "$t" >/dev/null 2>&1 || printf "%s " "$t"; done', 'ennio-doctor', ...tools], { timeoutMs: 15_000 });
    const missing = res.stdout.trim();
    return missing
      ? { name, ok: false, required: false, detail: `${host.label} (${ssh.strategy}): missing ${missing}`, fix: `install ${missing} on ${host.label}` }
      : { name, ok: true, required: false, detail: `${host.label} (${ssh.strategy}): ${tools.join(', ')} present` };
  } catch (err) {
    const hint = err instanceof EnnioError && err.hint ? err.hint : 'check ssh_config (host, port, username, auth)';
    return { name, ok: false, required: false, detail: err instanceof Error ? err.message : String(err), fix: hint };
  }
}

export async function runChecks(globals: GlobalOptions): Promise<Check[]> {
  const checks = await Promise.all([
    tool('git', ['git', '--version'], true, 'apt-get install -y git'),
    tool('tmux', ['tmux', '-V'], true, 'apt-get install -y tmux'),
    tool('ssh', ['ssh', '-V'], false, 'apt-get install -y openssh-client (needed for ~/.ssh/config aliases and remote attach)'),
    tool('tmate', ['tmate', '-V'], false, 'apt-get install -y tmate (only for strategy: tmate, on the remote host)'),
  ]);
  const major = Number(process.versions.node.split('.')[0]);
  checks.push({ name: 'node', ok: major >= 20, required: true, detail: process.version, ...(major >= 20 ? {} : { fix: 'install Node.js 20 or newer' }) });
  try {
    const path = findConfig(process.cwd(), globals.config);
    const loaded = loadConfig(path);
    checks.push({ name: 'config', ok: true, required: true, detail: `${path} (${loaded.config.projects.length} project(s))` });
    checks.push(...(await Promise.all(loaded.config.projects.filter((p) => p.ssh_config).map(remoteCheck))));
  } catch (err) {
    checks.push({ name: 'config', ok: false, required: true, detail: err instanceof Error ? err.message : String(err), fix: 'run `ennio init`, or fix the file as the message says' });
  }
  try {
    const store = openStore();
    checks.push({ name: 'store', ok: true, required: true, detail: store.path });
    store.close();
  } catch (err) {
    checks.push({ name: 'store', ok: false, required: true, detail: err instanceof Error ? err.message : String(err), fix: 'set ENNIO_HOME to a writable directory' });
  }
  return checks;
}

export function registerDoctor(program: Command, globals: () => GlobalOptions): void {
  program
    .command('doctor')
    .description('check git, tmux, ssh, Node and the config, and say how to fix what is missing')
    .action(async () => {
      const checks = await runChecks(globals()).finally(() => closeAllSshHosts());
      const failed = checks.filter((c) => !c.ok && c.required);
      if (globals().json) printJson({ ok: failed.length === 0, checks });
      else {
        for (const c of checks) {
          const mark = c.ok ? pc.green('ok  ') : c.required ? pc.red('FAIL') : pc.yellow('warn');
          process.stdout.write(`${mark} ${c.name.padEnd(7)} ${c.detail}${c.fix ? `\n     ${pc.dim('fix:')} ${c.fix}` : ''}\n`);
        }
      }
      if (failed.length) process.exitCode = 1;
    });
}
