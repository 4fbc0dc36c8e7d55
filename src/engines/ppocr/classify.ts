/**
 * The text-line direction classifier (PaddleOCR's ch_ppocr_mobile_v2.0_cls): is a line crop
 * upright (0°) or upside down (180°)? Input 3 × 48 × 192: the crop is resized to height 48 keeping
 * its aspect ratio up to 192 columns (longer lines are squeezed), the rest is zero padding.
 */
import type { RgbImage } from "../../types.js";
import type { Quad } from "./geometry.js";
import { quadSize } from "./geometry.js";
import { sampleQuad, SYMMETRIC } from "./image.js";
import type { RecognitionLanes } from "./lanes.js";
import { runModel, type Model, type Runtime } from "./models.js";
import { Scratch } from "./scratch.js";

export const CLS_HEIGHT = 48;
export const CLS_WIDTH = 192;
const BATCH = 8;

export interface Direction {
  /** Probability that the crop is upside down. */
  flipped: number;
}

/**
 * Classifies each quad (read in the quad's own corner order) as upright or upside down, in
 * batches spread over the lanes.
 */
export async function classify(lanes: RecognitionLanes, image: RgbImage, quads: readonly Quad[], signal?: AbortSignal): Promise<Direction[]> {
  const batches: Promise<Float32Array>[] = [];
  for (let start = 0; start < quads.length; start += BATCH) {
    signal?.throwIfAborted();
    batches.push(lanes.classify(image, quads.slice(start, start + BATCH)));
  }
  const flipped = await Promise.all(batches);
  return flipped.flatMap((batch) => Array.from(batch, (p) => ({ flipped: p })));
}

/** One batch on one lane: each quad's probability of being upside down. */
export async function classifyBatch(
  rt: Runtime,
  model: Model,
  image: RgbImage,
  quads: readonly Quad[],
  scratch = new Scratch(),
): Promise<Float32Array<ArrayBuffer>> {
  const plane = CLS_HEIGHT * CLS_WIDTH;
  const out = await scratch.use(quads.length * 3 * plane, (data) => {
    quads.forEach((quad, i) => {
      const { width, height } = quadSize(quad);
      const w = Math.max(1, Math.min(CLS_WIDTH, Math.ceil((CLS_HEIGHT * width) / Math.max(1, height))));
      sampleQuad(image, quad, w, CLS_HEIGHT, SYMMETRIC, data.subarray(i * 3 * plane, (i + 1) * 3 * plane), CLS_WIDTH, { linear: true });
    });
    return runModel(rt, model, data, [quads.length, 3, CLS_HEIGHT, CLS_WIDTH]);
  });
  return Float32Array.from(quads, (_, i) => out.data[i * 2 + 1]);
}
