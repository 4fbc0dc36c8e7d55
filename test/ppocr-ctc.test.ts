// CTC decoding (src/engines/ppocr/ctc.ts) on hand-made probability tables.
import { describe, expect, it } from "vitest";
import { beamDecode, greedyDecode, topCandidates } from "../src/engines/ppocr/ctc.js";

// Class 0 is the blank.
const CHARS = ["", "a", "b", ",", "."];

/** Full per-step probabilities (rows summing to 1) as the recogniser's candidates. */
function table(rows: number[][]) {
  const classes = CHARS.length;
  const probs = new Float32Array(rows.length * classes);
  rows.forEach((row, t) => {
    expect(row.length).toBe(classes);
    expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    probs.set(row, t * classes);
  });
  return topCandidates(probs, rows.length, classes, 3);
}

describe("CTC decoding", () => {
  it("keeps each step's most probable classes, best first, and the blank's probability", () => {
    const c = table([
      [0.1, 0.6, 0.2, 0.05, 0.05],
      [0.7, 0.1, 0.05, 0.1, 0.05],
    ]);
    expect(Array.from(c.ids)).toEqual([1, 2, 0, 0, 1, 3]);
    expect(Array.from(c.probs)).toEqual([0.6, 0.2, 0.1, 0.7, 0.1, 0.1].map(Math.fround));
    expect(Array.from(c.blank)).toEqual([0.1, 0.7].map(Math.fround));
  });

  it("agrees with the best path, and its confidence, where that path is clear", () => {
    const c = table([
      [0.02, 0.95, 0.01, 0.01, 0.01],
      [0.9, 0.04, 0.02, 0.02, 0.02],
      [0.05, 0.9, 0.03, 0.01, 0.01],
      [0.03, 0.02, 0.93, 0.01, 0.01],
    ]);
    const greedy = greedyDecode(c, CHARS);
    expect(greedy.text).toBe("aab");
    expect(greedy.confidence).toBeCloseTo((0.95 + 0.9 + 0.93) / 3, 5);
    expect(beamDecode(c, CHARS)).toEqual({ text: greedy.text, confidence: greedy.confidence });
  });

  it("finds a character whose probability is spread over steps that each lose to the blank", () => {
    // Every step's best class is the blank, yet "a" (0.4 + 0.4 − 0.16 … summed over its paths) is more probable than "".
    const c = table([
      [0.55, 0.4, 0.05, 0, 0],
      [0.55, 0.4, 0.05, 0, 0],
    ]);
    expect(greedyDecode(c, CHARS).text).toBe("");
    const beam = beamDecode(c, CHARS);
    expect(beam.text).toBe("a");
    expect(beam.confidence).toBeCloseTo(0.4, 5);
  });

  it("reads a comma whose steps outweigh the period that wins one step", () => {
    const c = table([
      [0.02, 0.95, 0.01, 0.01, 0.01],
      [0.3, 0, 0, 0.3, 0.4],
      [0.3, 0, 0, 0.4, 0.3],
      [0.4, 0, 0, 0.35, 0.25],
    ]);
    expect(greedyDecode(c, CHARS).text).toBe("a.,");
    expect(beamDecode(c, CHARS).text).toBe("a,");
  });

  it("decodes nothing from an all-blank line, and a long line without underflow", () => {
    expect(beamDecode(table([[1, 0, 0, 0, 0]]), CHARS)).toEqual({ text: "", confidence: 0 });
    // 1500 times a "b" then an "a" spread over two steps: only the beam search reads the "a"s, and
    // only if its path probabilities (some 0.3^1500, below the smallest double) are kept from underflowing.
    const rows: number[][] = [];
    for (let i = 0; i < 1500; i++) rows.push([0.1, 0.05, 0.85, 0, 0], [0.55, 0.4, 0.05, 0, 0], [0.55, 0.4, 0.05, 0, 0]);
    const c = table(rows);
    expect(greedyDecode(c, CHARS).text).toBe("b".repeat(1500));
    const text = beamDecode(c, CHARS).text;
    expect(text.startsWith("ba".repeat(1499))).toBe(true);
  });
});
