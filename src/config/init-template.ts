/**
 * The commented starter ennio.yaml written by `ennio init`. It must load as-is (a test
 * checks it), so the remote example stays commented out and no ${VAR} is live.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { EnnioError } from '../core/errors.js';
import { CONFIG_NAMES, configInDir } from './discover.js';

export interface StarterOptions {
  /** Name of the example project (default: from the directory name). */
  projectName?: string;
  /** Path of its git repository (default: the directory the config is written to). */
  projectPath?: string;
}

/** A valid project name from a directory name (schema: 1-40 of letters, digits, - or _). */
export function projectNameFrom(dir: string): string {
  const cleaned = basename(resolve(dir)).replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^[-_]+/, '').slice(0, 40);
  return cleaned || 'my-project';
}

/** A double-quoted YAML scalar; `${` is escaped so a path is never taken for a variable. */
// A replacer function, not the string '$${': in a replacement string "$$" means one "$".
const yamlString = (s: string): string => JSON.stringify(s).replaceAll('${', () => '$${');

export function starterConfig(options: Required<StarterOptions>): string {
  return `# Ennio configuration. Reference: \`ennio config schema\` prints the JSON Schema (for
# editor completion); \`ennio config show\` prints the effective config with secrets hidden.
# Values may use \${VAR} or \${VAR:-default} from the environment; write $\${ for a literal \${.

# port: 3000               # web dashboard

defaults:
  runtime: tmux            # tmux | process
  agent: claude-code       # claude-code | aider | codex | opencode | custom
  workspace: worktree      # worktree | clone

projects:
  # A local project: sessions run on this machine, each in its own git worktree.
  - name: ${options.projectName}
    path: ${yamlString(options.projectPath)}
    default_branch: main
    agent: claude-code
    # max_sessions: 4
    # agent_config:
    #   model: sonnet
    #   permissions: default   # default | accept_edits | skip
    # post_create:             # run in each new workspace
    #   - npm install
    # symlinks:                # shared files linked into each workspace
    #   - { source: .env, target: .env }

  # A remote project: sessions run on another machine over SSH.
  # - name: remote-project
  #   repo: git@github.com:user/repo.git      # cloned when path does not exist yet
  #   path: /home/deploy/repos/repo           # on the remote host
  #   ssh_config:
  #     host: build-server.example.com        # or an alias from ~/.ssh/config
  #     port: 22
  #     username: deploy
  #     auth:                                 # default: ssh-agent + IdentityFile from ~/.ssh/config
  #       type: key                           # key | agent | password
  #       path: ~/.ssh/id_ed25519
  #       passphrase: \${SSH_PASSPHRASE}       # never write secrets here; use the environment
  #     strategy: tmux                        # tmux | tmate | remote_control | node
  #     connection_timeout: 30s
  #     keepalive_interval: 60s
  #     host_key_policy: accept_new           # strict | accept_new | accept_all (testing only)
  #     known_hosts_path: ~/.ssh/known_hosts
  #     node_config:                          # used with strategy: node
  #       enabled: true
  #       port: 9100
  #       idle_timeout: 3600                  # seconds without calls before the daemon exits
  #       workspace_root: /home/deploy/ennio-workspaces
  #       auth_token: \${ENNIO_NODE_TOKEN}
`;
}

/**
 * Write the starter to `dir`/ennio.yaml, creating `dir` if needed. Refuses (CONFIG_EXISTS)
 * when the directory already has a config under any of the names discovery accepts, since
 * a second one would silently be shadowed or shadow the first.
 */
export function writeStarter(dir: string, options: StarterOptions = {}): string {
  const abs = resolve(dir);
  const existing = configInDir(abs);
  if (existing) {
    throw new EnnioError('CONFIG_EXISTS', `${existing} already exists; not overwriting it`, {
      hint: 'edit that file, or remove it first if you really want a fresh starter',
    });
  }
  mkdirSync(abs, { recursive: true });
  const target = join(abs, CONFIG_NAMES[0]);
  const text = starterConfig({
    projectName: options.projectName ?? projectNameFrom(abs),
    projectPath: options.projectPath ?? abs,
  });
  try {
    // 'wx' closes the race with a concurrent `ennio init` between the check and the write.
    writeFileSync(target, text, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new EnnioError('CONFIG_EXISTS', `${target} already exists; not overwriting it`, { cause: err });
    }
    throw err;
  }
  return target;
}
