/** For CLIs without a system-prompt flag, rules travel at the head of the first prompt. */
export function withRules(rules: string | undefined, prompt: string | undefined): string | undefined {
  if (rules && prompt) return `${rules}\n\n${prompt}`;
  return prompt ?? rules;
}
