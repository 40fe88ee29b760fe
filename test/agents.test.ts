/** Each agent's real launch command, built without spawning anything. */
import { describe, expect, it } from 'vitest';
import { agentPlugin } from '../src/agents/index.js';
import type { AgentContext } from '../src/agents/types.js';

const ctx = (over: Partial<AgentContext> = {}): AgentContext => ({
  sessionId: 's-1', workspace: '/w', config: { args: [] }, ...over,
});

describe('agents', () => {
  it('claude-code: model, permissions, rules as system prompt, prompt as positional', () => {
    const l = agentPlugin('claude-code').launch(ctx({ config: { model: 'opus', permissions: 'skip', args: ['--verbose'] }, rules: 'be careful', prompt: '-fix it' }));
    expect(l.command).toEqual(['claude', '--model', 'opus', '--dangerously-skip-permissions', '--append-system-prompt', 'be careful', '--verbose', '--', '-fix it']);
    expect(l.typedPrompt).toBeUndefined();
    expect(agentPlugin('claude-code').launch(ctx({ config: { permissions: 'accept_edits', args: [] } })).command).toEqual(['claude', '--permission-mode', 'acceptEdits']);
  });
  it('aider: prompt typed as first message, rules as a read-only file', () => {
    const l = agentPlugin('aider').launch(ctx({ config: { model: 'sonnet', permissions: 'skip', args: [] }, rules: 'R', prompt: 'P' }));
    expect(l.command).toEqual(['aider', '--model', 'sonnet', '--yes-always', '--read', '.ennio/aider-rules.md']);
    expect(l.typedPrompt).toBe('P');
    expect(l.files).toEqual([{ path: '/w/.ennio/aider-rules.md', content: 'R' }]);
  });
  it('codex: approvals mapped, rules ahead of the prompt', () => {
    const l = agentPlugin('codex').launch(ctx({ config: { permissions: 'accept_edits', args: [] }, rules: 'R', prompt: 'P' }));
    expect(l.command).toEqual(['codex', '--full-auto', '--', 'R\n\nP']);
  });
  it('opencode: --prompt and --model', () => {
    expect(agentPlugin('opencode').launch(ctx({ config: { model: 'm', args: [] }, prompt: 'P' })).command).toEqual(['opencode', '--model', 'm', '--prompt', 'P']);
  });
  it('custom: sh -c with passthrough args, prompt typed', () => {
    const l = agentPlugin('custom').launch(ctx({ config: { command: 'my-agent --x', args: ['a b', '$(c)'] }, prompt: 'P' }));
    expect(l.command).toEqual(['sh', '-c', 'my-agent --x "$@"', 'ennio-agent', 'a b', '$(c)']);
    expect(l.typedPrompt).toBe('P');
    expect(agentPlugin('custom').program({ command: 'my-agent --x', args: [] })).toBe('my-agent');
    expect(() => agentPlugin('custom').launch(ctx())).toThrow(/agent_config.command/);
  });
  it('unknown agents are refused with the list', () => {
    expect(() => agentPlugin('gpt')).toThrow(/unknown agent "gpt"/);
  });
});
