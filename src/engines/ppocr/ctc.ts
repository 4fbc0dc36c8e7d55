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

/**
 * @param probs  `steps × classes` probabilities, row-major (one batch item).
 * @param characters  class index → character; index 0 is the blank.
 */
export function ctcDecode(probs: Float32Array, steps: number, classes: number, characters: readonly string[]): Decoded {
  let text = "";
  let sum = 0;
  let count = 0;
  let prev = -1;
  for (let t = 0; t < steps; t++) {
    const base = t * classes;
    let best = 0;
    let bestP = probs[base];
    for (let c = 1; c < classes; c++) {
      const p = probs[base + c];
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best !== 0 && best !== prev) {
      text += characters[best] ?? "";
      sum += bestP;
      count++;
    }
    prev = best;
  }
  return { text, confidence: count ? sum / count : 0 };
}
