/**
 * Greedy CTC decoding of the recogniser's per-step character probabilities: take the best
 * class at each step, collapse repeats, drop the blank (index 0). The confidence is the mean
 * probability of the kept characters, as PaddleOCR reports it.
 */

export interface Decoded {
  text: string;
  /** Mean probability of the emitted characters; 0 when nothing was emitted. */
  confidence: number;
}

/** The best class and its probability at each step: what a recogniser worker sends back. */
export interface GreedyPath {
  best: Int32Array<ArrayBuffer>;
  prob: Float32Array<ArrayBuffer>;
}

/**
 * @param probs  `steps × classes` probabilities, row-major (one batch item).
 */
export function greedyPath(probs: Float32Array, steps: number, classes: number): GreedyPath {
  const best = new Int32Array(steps);
  const prob = new Float32Array(steps);
  for (let t = 0; t < steps; t++) {
    const base = t * classes;
    let b = 0;
    let bp = probs[base];
    for (let c = 1; c < classes; c++) {
      const p = probs[base + c];
      if (p > bp) {
        bp = p;
        b = c;
      }
    }
    best[t] = b;
    prob[t] = bp;
  }
  return { best, prob };
}

/**
 * Collapses repeats and drops blanks.
 * @param characters  class index → character; index 0 is the blank.
 */
export function collapsePath(path: GreedyPath, characters: readonly string[]): Decoded {
  let text = "";
  let sum = 0;
  let count = 0;
  let prev = -1;
  for (let t = 0; t < path.best.length; t++) {
    const b = path.best[t];
    if (b !== 0 && b !== prev) {
      text += characters[b] ?? "";
      sum += path.prob[t];
      count++;
    }
    prev = b;
  }
  return { text, confidence: count ? sum / count : 0 };
}
