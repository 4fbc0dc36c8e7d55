/**
 * Repetition-loop detection on generated text: does the text end with the same unit (any length
 * from one character to a few lines) repeated back to back, often enough and long enough that it
 * cannot be a real page? Pure functions, checked after every generated token.
 */

export interface LoopBounds {
  /** The repeated run must cover at least this many characters... */
  minChars: number;
  /** ...and hold at least this many copies of the unit. */
  minRepeats: number;
  /** Longest unit considered, in characters. */
  maxPeriod: number;
}

/**
 * Defaults. A run of 400+ characters made of 3+ back-to-back copies: 400 dots or spaces, 134
 * copies of " la", 29 copies of a 14-character table row, 3 copies of a 200-character paragraph.
 * Real pages rarely hold that (dot leaders and rules stay well under 400 characters; a blank form
 * with 30 identical empty rows is the kind of page that would trip it), while a looping model
 * only costs about 100–400 tokens before it is stopped, against a 2,048-token budget.
 */
export const DEFAULT_LOOP_BOUNDS: LoopBounds = { minChars: 400, minRepeats: 3, maxPeriod: 1000 };

export interface Loop {
  /** Length of the repeated unit, in characters (the shortest that fits). */
  period: number;
  /** Whole copies of the unit in the run (a partial copy may end it). */
  repeats: number;
  /** Index where the repeated run, and its first copy, starts. */
  start: number;
  /** The repeated unit. */
  unit: string;
}

/** The loop at the end of `text`, if there is one within the bounds. Cost: O(maxPeriod) per call when none. */
export function findLoop(text: string, bounds: LoopBounds = DEFAULT_LOOP_BOUNDS): Loop | undefined {
  const n = text.length;
  const maxPeriod = Math.min(bounds.maxPeriod, Math.floor(n / Math.max(2, bounds.minRepeats)));
  for (let p = 1; p <= maxPeriod; p++) {
    const needed = Math.max(bounds.minChars, bounds.minRepeats * p);
    if (needed > n) break;
    // text[i] === text[i - p] over the last `needed - p` characters means `needed` characters of period p.
    let matched = 0;
    while (matched < needed - p && text.charCodeAt(n - 1 - matched) === text.charCodeAt(n - 1 - matched - p)) matched++;
    if (matched < needed - p) continue;
    // Extend backwards to find where the run starts.
    while (n - 1 - matched - p >= 0 && text.charCodeAt(n - 1 - matched) === text.charCodeAt(n - 1 - matched - p)) matched++;
    // The run is text[start, n): its first copy starts where the repetition starts.
    const start = n - (matched + p);
    const repeats = Math.floor((matched + p) / p);
    return { period: p, repeats, start, unit: text.slice(start, start + p) };
  }
  return undefined;
}

/** The text with a detected loop cut down to its first copy. */
export function cutLoop(text: string, loop: Loop): string {
  return text.slice(0, loop.start + loop.period);
}

/** `" la"` × 134 — for warnings. */
export function describeLoop(loop: Loop): string {
  const shown = loop.unit.length > 40 ? `${loop.unit.slice(0, 37)}...` : loop.unit;
  return `${JSON.stringify(shown)} × ${loop.repeats}`;
}
