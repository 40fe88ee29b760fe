/**
 * Reading an agent's screen with its own patterns: the bottom of the pane is where a TUI
 * draws its state (a spinner line, a question, the input prompt); older lines are history.
 */
import type { ScreenReading } from '../activity/types.js';

export interface ScreenPatterns {
  /** A question or permission dialog: it needs you. Checked first. */
  waiting?: RegExp;
  /** A busy indicator ("esc to interrupt"). */
  working?: RegExp;
  /** The input prompt, nothing running. */
  idle?: RegExp;
  /** How many non-blank lines from the bottom count (default 25). */
  lastLines?: number;
}

export function screenReader(patterns: ScreenPatterns): (screen: string) => ScreenReading {
  return (screen) => {
    const lines = screen.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
    const bottom = lines.slice(-(patterns.lastLines ?? 25)).join('\n');
    if (patterns.waiting?.test(bottom)) return 'waiting_input';
    if (patterns.working?.test(bottom)) return 'working';
    if (patterns.idle?.test(bottom)) return 'idle';
    return undefined;
  };
}

/** For programs ennio knows nothing about: a question on the last line waits for you, a prompt is idle. */
export const genericPrompt: ScreenPatterns = {
  waiting: /(\?\s*|\((y\/n|yes\/no)\)\s*|\[(y\/n|Y\/n|y\/N)\]\s*)$/i,
  idle: /[>›$#%:]\s?$/,
  lastLines: 1,
};
