import { describe, expect, it } from "vitest";
import { boxesFromMap, DEFAULT_DB_PARAMS, polygonMean, type ProbMap } from "../src/engines/ppocr/db.js";
import type { Quad } from "../src/engines/ppocr/geometry.js";

function blankMap(width: number, height: number): ProbMap {
  return { data: new Float32Array(width * height), width, height };
}

function fill(map: ProbMap, x0: number, y0: number, x1: number, y1: number, p: number): void {
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) map.data[y * map.width + x] = p;
}

describe("DB box scores", () => {
  it("the mean over a polygon counts the pixels its spans touch", () => {
    const map = blankMap(20, 20);
    fill(map, 5, 5, 15, 15, 1);
    const square: Quad = [
      { x: 5, y: 5 },
      { x: 15, y: 5 },
      { x: 15, y: 15 },
      { x: 5, y: 15 },
    ];
    expect(polygonMean(map, square)).toBeGreaterThan(0.8);
    // A triangle over the lit square's lower-left half and the dark pixels beside it.
    const triangle = [
      { x: 0, y: 15 },
      { x: 15, y: 0 },
      { x: 15, y: 15 },
    ];
    const mean = polygonMean(map, triangle);
    expect(mean).toBeGreaterThan(0.3);
    expect(mean).toBeLessThan(0.8);
  });

  it("a line with a mark touching one end: its rectangle scores under the threshold, its region over it", () => {
    // A 200 × 6 text band with a 4 × 4 mark on its left end, as a smudge or an accent leaves.
    const map = blankMap(240, 40);
    fill(map, 20, 20, 220, 26, 0.9);
    fill(map, 20, 16, 24, 20, 0.9);
    const rect = boxesFromMap(map, { ...DEFAULT_DB_PARAMS, boxScore: "rect" });
    const region = boxesFromMap(map, { ...DEFAULT_DB_PARAMS, boxScore: "region" });
    expect(rect).toHaveLength(0);
    expect(region).toHaveLength(1);
    expect(region[0].score).toBeGreaterThanOrEqual(DEFAULT_DB_PARAMS.boxThresh);
    expect(DEFAULT_DB_PARAMS.boxScore).toBe("region");
  });
});
