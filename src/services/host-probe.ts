/**
 * The hosts panel: every host the config's projects run on, whether it answers, the round
 * trip of one command on its warm connection, and what the runtime reports about the
 * host (ennio-node's version and uptime, from a heartbeat that never deploys).
 */
import type { HostJson } from '../api/contract.js';
import type { EnnioConfig } from '../config/schema.js';
import type { Backends } from './backends.js';

const PROBE_TIMEOUT_MS = 10_000;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function probeHosts(config: EnnioConfig, backends: Backends): Promise<HostJson[]> {
  const byHost = new Map<string, { projects: string[]; probe: Promise<Omit<HostJson, 'projects' | 'checked_at'>> }>();
  for (const project of config.projects) {
    const key = project.ssh_config ? `${project.ssh_config.username ?? ''}@${project.ssh_config.host}:${project.ssh_config.port ?? ''}:${project.ssh_config.strategy}` : 'local';
    const known = byHost.get(key);
    if (known) {
      known.projects.push(project.name);
      continue;
    }
    const fallbackLabel = project.ssh_config ? project.ssh_config.host : 'local';
    const probe = (async (): Promise<Omit<HostJson, 'projects' | 'checked_at'>> => {
      let backend;
      try {
        backend = await backends.forProject(project);
      } catch (err) {
        return { host: fallbackLabel, backend: project.ssh_config ? `ssh:${project.ssh_config.strategy}` : 'local', reachable: false, rtt_ms: null, detail: message(err) };
      }
      const base = { host: backend.host.label, backend: backend.kind };
      if (!backend.host.isRemote) return { ...base, reachable: true, rtt_ms: null };
      let rtt: number;
      try {
        // The first command may include connecting; the round trip is the second one's.
        for (let i = 0; i < 2; i++) {
          const started = performance.now();
          const res = await backend.host.exec(['true'], { timeoutMs: PROBE_TIMEOUT_MS });
          if (res.code !== 0) return { ...base, reachable: false, rtt_ms: null, detail: `\`true\` exited ${res.code}` };
          rtt = Math.round((performance.now() - started) * 10) / 10;
        }
      } catch (err) {
        return { ...base, reachable: false, rtt_ms: null, detail: message(err) };
      }
      const facts: Record<string, string> | undefined = await backend.runtime.hostFacts?.().catch((err: unknown) => ({ node: 'error', node_detail: message(err) }));
      return {
        ...base, reachable: true, rtt_ms: rtt!,
        ...(facts?.['node'] ? { node: facts['node'] } : {}),
        ...(facts?.['node_version'] ? { node_version: facts['node_version'] } : {}),
        ...(facts?.['node_uptime_s'] ? { node_uptime_s: Number(facts['node_uptime_s']) } : {}),
        ...(facts?.['node_detail'] ? { detail: facts['node_detail'] } : {}),
      };
    })();
    byHost.set(key, { projects: [project.name], probe });
  }
  const checkedAt = new Date().toISOString();
  return Promise.all([...byHost.values()].map(async ({ projects, probe }) => ({ ...(await probe), projects, checked_at: checkedAt })));
}
