/** "Did you mean …?" for misspelt config keys and enum values. */

export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

// `sessionPrefix`, `Session-Prefix` and `session_prefix` are the same word to a human.
const normalize = (s: string): string => s.toLowerCase().replace(/[-_\s]/g, '');

/**
 * The closest candidate, or undefined when nothing is close enough to be a plausible typo
 * (at most a third of the word's letters wrong, minimum 2) — a wild guess is worse than none.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDist = Infinity;
  const w = normalize(word);
  for (const c of candidates) {
    const d = normalize(c) === w ? 0 : levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestDist) {
      best = c;
      bestDist = d;
    }
  }
  const limit = Math.max(2, Math.floor(word.length / 3));
  return bestDist <= limit ? best : undefined;
}

/** ` — did you mean "x"?` or ''. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c === undefined ? '' : ` — did you mean ${JSON.stringify(c)}?`;
}
