/** The spawn form: project, prompt, branch, agent — the same request as `ennio spawn`. */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { ProjectJson, SessionJson } from '../api/contract.js';
import { api, ApiError } from './api.js';
import { linkClick, sessionHref } from './router.js';

const AGENTS = ['claude-code', 'aider', 'codex', 'opencode', 'custom'];

export function SpawnForm() {
  const [projects, setProjects] = useState<ProjectJson[] | undefined>(undefined);
  const [project, setProject] = useState('');
  const [prompt, setPrompt] = useState('');
  const [branch, setBranch] = useState('');
  const [agent, setAgent] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: SessionJson } | { error: ApiError } | undefined>(undefined);

  useEffect(() => {
    void api<{ projects: ProjectJson[] }>('GET', '/api/v1/projects').then(
      (r) => {
        setProjects(r.projects);
        setProject((p) => p || r.projects[0]?.name || '');
      },
      (err: unknown) => setResult({ error: err instanceof ApiError ? err : new ApiError('INTERNAL', String(err)) }),
    );
  }, []);

  const chosen = projects?.find((p) => p.name === project);
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setResult(undefined);
    try {
      const s = await api<SessionJson>('POST', '/api/v1/sessions', {
        project,
        ...(prompt.trim() ? { prompt } : {}),
        ...(branch.trim() ? { branch: branch.trim() } : {}),
        ...(agent ? { agent } : {}),
      });
      setResult({ ok: s });
      setPrompt('');
      setBranch('');
    } catch (err) {
      setResult({ error: err instanceof ApiError ? err : new ApiError('INTERNAL', String(err)) });
    } finally {
      setBusy(false);
    }
  };

  return html`
    <form class="panel spawn" aria-label="New session" onSubmit=${submit}>
      <h2>New session</h2>
      <label>Project
        <select value=${project} onChange=${(e: Event) => setProject((e.target as HTMLSelectElement).value)} disabled=${!projects?.length}>
          ${(projects ?? []).map((p) => html`<option key=${p.name} value=${p.name}>${p.name} (${p.host})</option>`)}
        </select>
      </label>
      <label>Prompt
        <textarea rows="3" value=${prompt} onInput=${(e: Event) => setPrompt((e.target as HTMLTextAreaElement).value)} placeholder="What should the agent do?"></textarea>
      </label>
      <div class="two">
        <label>Branch
          <input type="text" value=${branch} onInput=${(e: Event) => setBranch((e.target as HTMLInputElement).value)} placeholder="ennio/<id>" spellcheck="false" />
        </label>
        <label>Agent
          <select value=${agent} onChange=${(e: Event) => setAgent((e.target as HTMLSelectElement).value)}>
            <option value="">${chosen ? `default (${chosen.agent})` : 'default'}</option>
            ${AGENTS.map((a) => html`<option key=${a} value=${a}>${a}</option>`)}
          </select>
        </label>
      </div>
      <button type="submit" class="primary" disabled=${busy || !project} aria-busy=${busy}>Spawn</button>
      ${busy ? html`<span class="dim small"> spawning…</span>` : null}
      ${result && 'ok' in result
        ? html`<p class="ok small" role="status">Spawned <a href=${sessionHref(result.ok.id)} onClick=${linkClick(sessionHref(result.ok.id))}>${result.ok.id}</a> on ${result.ok.branch}</p>`
        : null}
      ${result && 'error' in result ? html`<p class="error small" role="alert">${result.error.message}${result.error.hint ? html`<br /><span class="dim">${result.error.hint}</span>` : null}</p>` : null}
    </form>
  `;
}
