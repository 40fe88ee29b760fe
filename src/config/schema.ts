/**
 * The one schema of ennio.yaml. Types come from z.infer; `ennio config schema` prints
 * z.toJSONSchema of it. Keys are snake_case as in the spec. Unknown keys are errors
 * (strictObject) so typos are caught with a did-you-mean hint by the loader.
 */
import { z } from 'zod';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;

/** "30s", "1m", "500ms", "2h" or a bare number of seconds → milliseconds. */
export const duration = z
  .union([z.number().nonnegative(), z.string().regex(DURATION, 'expected a duration like 30s, 500ms, 2m or 1h')])
  .transform((v) => {
    if (typeof v === 'number') return v * 1000;
    const m = DURATION.exec(v)!;
    const n = Number(m[1]);
    const unit = m[2] ?? 's';
    return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!;
  });

const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/, 'use 1-40 letters, digits, - or _ (starting with a letter or digit)');

export const keyAuth = z.strictObject({
  type: z.literal('key'),
  path: z.string().min(1).describe('Private key file; ~ is expanded. OpenSSH or PEM format, optionally encrypted.'),
  passphrase: z.string().optional().describe('Passphrase for an encrypted key; use ${SSH_PASSPHRASE}.'),
});
export const agentAuth = z.strictObject({ type: z.literal('agent') });
export const passwordAuth = z.strictObject({
  type: z.literal('password'),
  password: z.string().describe('Use ${SSH_PASSWORD}; never write it into the file.'),
});
/** `type` may be omitted: key is the default method, as in the spec. */
export const auth = z.preprocess(
  (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && !('type' in v) ? { type: 'key', ...v } : v),
  z.discriminatedUnion('type', [keyAuth, agentAuth, passwordAuth]),
);

export const nodeConfig = z.strictObject({
  enabled: z.boolean().default(true),
  port: z.number().int().min(1).max(65535).default(9100),
  idle_timeout: z.number().int().min(1).default(3600).describe('Seconds without gRPC activity before the daemon exits.'),
  workspace_root: z.string().optional().describe('Directory on the remote host for workspaces (default ~/.ennio/workspaces).'),
  ennio_binary_path: z.string().optional().describe('Use this ennio-node on the remote instead of uploading one.'),
  auth_token: z.string().optional().describe('Bearer token; use ${ENNIO_NODE_TOKEN}. Generated and kept in ENNIO_HOME when absent.'),
});

export const tmateConfig = z.strictObject({
  server_host: z.string().optional(),
  server_port: z.number().int().min(1).max(65535).optional(),
  server_rsa_fingerprint: z.string().optional(),
  server_ed25519_fingerprint: z.string().optional(),
  url_timeout: duration.default(5000).describe('How long to wait for the share URLs before reporting them unavailable.'),
});

export const sshConfig = z.strictObject({
  host: z.string().min(1).describe('Host name, address, or an alias from ~/.ssh/config.'),
  port: z.number().int().min(1).max(65535).optional().describe('Default: from ~/.ssh/config, else 22.'),
  username: z.string().min(1).optional().describe('Default: from ~/.ssh/config, else the local user.'),
  auth: auth.optional().describe('Default: the SSH agent and the IdentityFile(s) that ssh -G reports.'),
  strategy: z.enum(['tmux', 'tmate', 'remote_control', 'node']).default('tmux'),
  connection_timeout: duration.default(30_000),
  keepalive_interval: duration.default(60_000),
  host_key_policy: z.enum(['strict', 'accept_new', 'accept_all']).default('accept_new'),
  known_hosts_path: z.string().optional().describe('Default: UserKnownHostsFile from ssh -G, else ~/.ssh/known_hosts.'),
  proxy_jump: z.string().optional().describe('Bastions, as OpenSSH ProxyJump: [user@]host[:port][,…]. Default: from ~/.ssh/config.'),
  forward_agent: z.boolean().default(false).describe('Forward the local SSH agent so the remote can fetch private repos.'),
  use_ssh_config: z.boolean().default(true).describe('Resolve host through `ssh -G` (~/.ssh/config).'),
  remote_dir: z.string().default('~/.ennio').describe("Ennio's directory on the remote host: workspaces/ and tmate/ live there."),
  tmate: tmateConfig.optional(),
  node_config: nodeConfig.optional(),
});

export const agentConfig = z.strictObject({
  command: z.string().optional().describe('For agent "custom": the command line to run (through sh -c).'),
  model: z.string().optional(),
  permissions: z.enum(['default', 'accept_edits', 'skip']).optional()
    .describe('skip = run without permission prompts (the agent\'s dangerous/yolo flag).'),
  args: z.array(z.string()).default([]).describe('Extra arguments passed to the agent as they are.'),
});

export const runtimeName = z.enum(['tmux', 'process']);
export const workspaceType = z.enum(['worktree', 'clone']);
export const agentName = z.enum(['claude-code', 'aider', 'codex', 'opencode', 'custom']);

export const project = z.strictObject({
  name,
  repo: z.string().optional().describe('Clone URL; needed for workspace: clone, or to create a missing path.'),
  path: z.string().min(1).describe('The git repository (on the remote host when ssh_config is set).'),
  default_branch: z.string().default('main'),
  session_prefix: z.string().regex(/^[A-Za-z0-9_-]{1,20}$/, 'use 1-20 letters, digits, - or _').optional(),
  max_sessions: z.number().int().min(1).optional(),
  runtime: runtimeName.optional(),
  agent: agentName.optional(),
  workspace: workspaceType.optional(),
  agent_config: agentConfig.optional(),
  agent_rules: z.string().optional().describe('Instructions given to the agent (system prompt / rules file).'),
  symlinks: z.array(z.strictObject({ source: z.string().min(1), target: z.string().min(1) })).default([]),
  post_create: z.array(z.string()).default([]),
  ssh_config: sshConfig.optional(),
});

export const serverConfig = z.strictObject({
  autostart: z.boolean().default(true).describe('Start the orchestrator in the background on the first command (false: every command runs in-process).'),
  sweep_interval: duration.default(2000).describe('How often the orchestrator checks every session (one command per host).'),
  idle_exit: duration.default(10_800_000).describe('The orchestrator exits after this long with no running session and no client.'),
  host: z.string().min(1).default('127.0.0.1').describe('Address the HTTP API listens on; anything but loopback needs api_token.'),
});

export const activityConfig = z.strictObject({
  quiet_after: duration.default(10_000).describe('A screen unchanged this long (and no hook this long) is not working: the screen decides between idle and waiting.'),
  stale_after: duration.default(900_000).describe('"working" with no hook and nothing on screen to say otherwise for this long becomes unknown.'),
});

const activityName = z.enum(['working', 'waiting_input', 'idle', 'exited', 'unknown']);

export const notificationRule = z
  .strictObject({
    on: z.array(activityName).min(1).describe('Notify when a session enters one of these activities.'),
    command: z.array(z.string()).min(1).optional().describe('argv run with the event as JSON on stdin (no shell).'),
    webhook: z.url({ protocol: /^https?$/ }).optional().describe('POST the event as JSON here (retried with backoff).'),
    desktop: z.boolean().optional().describe('notify-send when a desktop is there (DISPLAY or WAYLAND_DISPLAY). Default: true when no command or webhook is given.'),
    min_working: duration.default(20_000).describe('"idle" notifies only after the session worked at least this long.'),
  })
  .refine((r) => r.command !== undefined || r.webhook !== undefined || r.desktop !== false, { message: 'give command, webhook, or desktop: true' });

export const notifySettings = z.strictObject({
  debounce: duration.default(3000).describe('Changes of one session within this time make one notification (its latest state).'),
  burst: z.number().int().min(2).default(3).describe('This many notifications due at once go out as one summary.'),
});

export const config = z.strictObject({
  port: z.number().int().min(0).max(65535).default(3000).describe('TCP port of the HTTP API and dashboard (0: any free port).'),
  api_token: z.string().min(16, 'use at least 16 characters').optional().describe('Bearer token required by every call on the TCP port.'),
  server: serverConfig.prefault({}),
  defaults: z
    .strictObject({
      runtime: runtimeName.default('tmux'),
      agent: agentName.default('claude-code'),
      workspace: workspaceType.default('worktree'),
    })
    .prefault({}),
  projects: z.array(project).default([]),
  activity: activityConfig.prefault({}),
  notifications: z.array(notificationRule).default([]).describe('Tell someone when sessions need them (the orchestrator sends these).'),
  notify: notifySettings.prefault({}),
});

export type EnnioConfig = z.infer<typeof config>;
export type ServerConfig = z.infer<typeof serverConfig>;
export type ActivityConfig = z.infer<typeof activityConfig>;
export type NotificationRule = z.infer<typeof notificationRule>;
export type NotifySettings = z.infer<typeof notifySettings>;
export type ProjectConfig = z.infer<typeof project>;
export type SshConfig = z.infer<typeof sshConfig>;
export type NodeConfig = z.infer<typeof nodeConfig>;
export type AgentConfig = z.infer<typeof agentConfig>;
export type AuthConfig = z.infer<typeof auth>;
export type AgentName = z.infer<typeof agentName>;
export type RuntimeName = z.infer<typeof runtimeName>;
export type WorkspaceType = z.infer<typeof workspaceType>;

/** Keys whose values are secrets: redacted by `config show`, never logged. */
export const SECRET_KEYS = new Set(['passphrase', 'password', 'auth_token', 'api_token']);
