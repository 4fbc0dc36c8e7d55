/**
 * Text-line recognition (PP-OCRv4 SVTR-LCNet + CTC): each crop is sampled to height 48 at its
 * natural width (one crop per run: padding crops to a common width costs more than it saves on
 * a CPU; crops run in parallel on the recognition lanes instead), normalised to [-1, 1] in B, G, R order, and decoded by a CTC prefix beam search (ctc.ts).
 */
import type { RgbImage } from "../../types.js";
import { beamDecode, type Decoded } from "./ctc.js";
import { quadSize, type Quad } from "./geometry.js";
import type { RecognitionLanes } from "./lanes.js";

export const REC_HEIGHT = 48;
/** Narrowest crop fed to the model (a few CTC steps), in pixels. */
export const REC_MIN_WIDTH = 16;
/** Widest crop fed to the model; longer lines are squeezed (a 3200-px line is ~170 characters). */
export const REC_MAX_WIDTH = 3200;

/** Width a crop is sampled at for the recogniser. */
export function recWidth(quad: Quad): number {
  const { width, height } = quadSize(quad);
  const w = Math.ceil((REC_HEIGHT * width) / Math.max(1, height));
  return Math.min(REC_MAX_WIDTH, Math.max(REC_MIN_WIDTH, w));
}

/** Recognises one crop (read in the quad's corner order), with red ink dropped out of it if asked (red-ink.ts). */
export async function recognizeQuad(
  lanes: RecognitionLanes,
  image: RgbImage,
  quad: Quad,
  characters: readonly string[],
  pad: { minWidth: number; extra: number } = { minWidth: 0, extra: 0 },
  dropRed = false,
): Promise<Decoded> {
  const width = recWidth(quad);
  const tensorWidth = Math.max(pad.minWidth, width + pad.extra);
  return beamDecode(await lanes.read(image, { quad, width, tensorWidth, height: REC_HEIGHT, dropRed }), characters);
}
