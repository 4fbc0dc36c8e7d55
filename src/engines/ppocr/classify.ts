/**
 * The text-line direction classifier (PaddleOCR's ch_ppocr_mobile_v2.0_cls): is a line crop
 * upright (0°) or upside down (180°)? Input 3 × 48 × 192: the crop is resized to height 48 keeping
 * its aspect ratio up to 192 columns (longer lines are squeezed), the rest is zero padding.
 */
import type { RgbImage } from "../../types.js";
import type { Quad } from "./geometry.js";
import { quadSize } from "./geometry.js";
import { sampleQuad, SYMMETRIC } from "./image.js";
import { runModel, type Model, type Runtime } from "./models.js";

export const CLS_HEIGHT = 48;
export const CLS_WIDTH = 192;
const BATCH = 8;

export interface Direction {
  /** Probability that the crop is upside down. */
  flipped: number;
}

/** Classifies each quad (read in the quad's own corner order) as upright or upside down. */
export async function classify(
  rt: Runtime,
  model: Model,
  image: RgbImage,
  quads: readonly Quad[],
  signal?: AbortSignal,
): Promise<Direction[]> {
  const results: Direction[] = [];
  const plane = CLS_HEIGHT * CLS_WIDTH;
  for (let start = 0; start < quads.length; start += BATCH) {
    signal?.throwIfAborted();
    const batch = quads.slice(start, start + BATCH);
    const data = new Float32Array(batch.length * 3 * plane);
    batch.forEach((quad, i) => {
      const { width, height } = quadSize(quad);
      const w = Math.max(1, Math.min(CLS_WIDTH, Math.ceil((CLS_HEIGHT * width) / Math.max(1, height))));
      sampleQuad(image, quad, w, CLS_HEIGHT, SYMMETRIC, data.subarray(i * 3 * plane, (i + 1) * 3 * plane), CLS_WIDTH, { linear: true });
    });
    const out = await runModel(rt, model, data, [batch.length, 3, CLS_HEIGHT, CLS_WIDTH]);
    for (let i = 0; i < batch.length; i++) results.push({ flipped: out.data[i * 2 + 1] });
  }
  return results;
}
