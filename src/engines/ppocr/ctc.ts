/**
 * CTC decoding of the recogniser's per-step character probabilities.
 *
 * PaddleOCR decodes greedily: the best class at each step, repeats collapsed, blanks dropped. That
 * is the most probable *path*, not the most probable *text*: a character whose probability is
 * spread over two steps, each narrowly lost to the blank (a thin "I", a line's last comma), is
 * dropped although the text with it is the more probable one. A prefix beam search sums every path
 * of a text, and is what decoding a CTC model exactly, without a language model, approximates.
 * It runs on the few most probable classes of each step (ctc-head.ts), which hold all but a
 * negligible part of the probability.
 */

export interface Decoded {
  text: string;
  /** Mean probability of the emitted characters; 0 when nothing was emitted. */
  confidence: number;
}

/** The most probable classes of each step and the blank's probability: what a recogniser lane sends back. */
export interface CtcCandidates {
  steps: number;
  /** Classes per step. */
  k: number;
  /** `steps × k` class indices, most probable first (index 0 is the blank). */
  ids: Int32Array<ArrayBuffer>;
  /** Their probabilities. */
  probs: Float32Array<ArrayBuffer>;
  /** The blank's probability at each step. */
  blank: Float32Array<ArrayBuffer>;
}

/** Prefixes kept from step to step. */
export const BEAM_WIDTH = 10;
/** Extensions less probable than this at a step are not followed. */
const MIN_PROB = 1e-4;

/**
 * The `k` most probable classes of each step of a full `steps × classes` probability tensor
 * (row-major, one batch item): for a recogniser the graph rewrite could not give its CTC head.
 */
export function topCandidates(probs: Float32Array, steps: number, classes: number, k: number): CtcCandidates {
  const kk = Math.min(k, classes);
  const ids = new Int32Array(steps * kk).fill(-1);
  const top = new Float32Array(steps * kk).fill(-1);
  const blank = new Float32Array(steps);
  for (let t = 0; t < steps; t++) {
    const base = t * classes;
    const o = t * kk;
    blank[t] = probs[base];
    for (let c = 0; c < classes; c++) {
      const p = probs[base + c];
      if (p <= top[o + kk - 1]) continue;
      let j = kk - 1;
      while (j > 0 && top[o + j - 1] < p) {
        top[o + j] = top[o + j - 1];
        ids[o + j] = ids[o + j - 1];
        j--;
      }
      top[o + j] = p;
      ids[o + j] = c;
    }
  }
  return { steps, k: kk, ids, probs: top, blank };
}

/** The best path, repeats collapsed and blanks dropped; the confidence is PaddleOCR's (mean best probability of the kept characters). */
export function greedyDecode(c: CtcCandidates, characters: readonly string[]): Decoded & { labels: number[] } {
  const labels: number[] = [];
  let text = "";
  let sum = 0;
  let prev = -1;
  for (let t = 0; t < c.steps; t++) {
    const b = c.ids[t * c.k];
    if (b !== 0 && b !== prev) {
      labels.push(b);
      text += characters[b] ?? "";
      sum += c.probs[t * c.k];
    }
    prev = b;
  }
  return { text, confidence: labels.length ? sum / labels.length : 0, labels };
}

interface Beam {
  /** The prefix: a node of the trie below. */
  node: number;
  /** Probability of the prefix with the step's path ending in a blank, and in its last character. */
  pb: number;
  pnb: number;
}

/**
 * The most probable text by a CTC prefix beam search over each step's candidates. Where it
 * agrees with the best path (nearly always), the confidence is the best path's, as PaddleOCR
 * reports it; otherwise the mean over the characters of the highest probability each was emitted with.
 */
export function beamDecode(c: CtcCandidates, characters: readonly string[], width = BEAM_WIDTH): Decoded {
  const greedy = greedyDecode(c, characters);
  // Prefixes as a trie: node 0 is the empty prefix.
  const parent = [-1];
  const label = [-1];
  const best = [0];
  const children = new Map<number, number>();
  const child = (node: number, l: number): number => {
    const key = node * 65536 + l;
    let n = children.get(key);
    if (n === undefined) {
      n = parent.length;
      parent.push(node);
      label.push(l);
      best.push(0);
      children.set(key, n);
    }
    return n;
  };

  let beams: Beam[] = [{ node: 0, pb: 1, pnb: 0 }];
  const next = new Map<number, Beam>();
  const at = (node: number): Beam => {
    let b = next.get(node);
    if (!b) {
      b = { node, pb: 0, pnb: 0 };
      next.set(node, b);
    }
    return b;
  };
  for (let t = 0; t < c.steps; t++) {
    next.clear();
    const blank = c.blank[t];
    const o = t * c.k;
    for (const beam of beams) {
      const total = beam.pb + beam.pnb;
      at(beam.node).pb += total * blank;
      const last = label[beam.node];
      for (let j = 0; j < c.k; j++) {
        const id = c.ids[o + j];
        const p = c.probs[o + j];
        if (id <= 0 || p < MIN_PROB) continue;
        if (id === last) {
          // The same character again: a repeat of it unless a blank came between.
          at(beam.node).pnb += beam.pnb * p;
          if (p > best[beam.node]) best[beam.node] = p;
          if (beam.pb > 0) {
            const n = child(beam.node, id);
            at(n).pnb += beam.pb * p;
            if (p > best[n]) best[n] = p;
          }
        } else {
          const n = child(beam.node, id);
          at(n).pnb += total * p;
          if (p > best[n]) best[n] = p;
        }
      }
    }
    beams = [...next.values()].sort((a, b) => b.pb + b.pnb - (a.pb + a.pnb)).slice(0, width);
    // Rescaled each step: a long line's path probabilities would otherwise underflow.
    const scale = beams.length ? beams[0].pb + beams[0].pnb : 0;
    if (!(scale > 0)) return { text: greedy.text, confidence: greedy.confidence };
    for (const b of beams) {
      b.pb /= scale;
      b.pnb /= scale;
    }
  }

  const labels: number[] = [];
  const probs: number[] = [];
  for (let n = beams[0]?.node ?? 0; n > 0; n = parent[n]) {
    labels.push(label[n]);
    probs.push(best[n]);
  }
  labels.reverse();
  if (labels.length === greedy.labels.length && labels.every((l, i) => l === greedy.labels[i])) {
    return { text: greedy.text, confidence: greedy.confidence };
  }
  return {
    text: labels.map((l) => characters[l] ?? "").join(""),
    confidence: probs.length ? probs.reduce((a, p) => a + p, 0) / probs.length : 0,
  };
}
