/**
 * Page image preparation for Qwen-VL: the blank-page check (no model run for a page without ink)
 * and the pixel budget (the page is resized once, with a proper downscaling filter, to the size
 * the processor would pick, so the processor's own resize is a no-op).
 */
import type { RgbImage } from "../../types.js";

/**
 * Default pixel budget: 1280 visual tokens of 32×32 px (1.31 MP), the budget Qwen's own
 * cookbooks use for document pages (`max_pixels = 1280 * 28 * 28` with Qwen2-VL's 28-px tokens).
 * An A4 page at 200 DPI (3.9 MP) is read at about 117 DPI, where 10-pt text is still about
 * 16 px tall; prefill stays well under the 1,900 tokens the real processor default would give.
 */
export const DEFAULT_MAX_PIXELS = 1280 * 32 * 32;

export interface InkCheck {
  /** Share of pixels that differ clearly from the background. */
  ink: number;
  /** The background luminance (the most common value). */
  background: number;
}

/** Luminance distance from the background that counts as ink. */
const INK_DELTA = 48;
/** Below this share of ink pixels (and below MIN_INK_PIXELS) a page is blank: 2e-5 is ~77 px of an A4 page at 200 DPI. */
const BLANK_SHARE = 2e-5;
const MIN_INK_PIXELS = 16;

export function inkCheck(image: RgbImage): InkCheck {
  const { data, width, height } = image;
  const histogram = new Uint32Array(256);
  const pixels = width * height;
  for (let i = 0, p = 0; p < pixels; p++, i += 3) {
    histogram[(data[i]! * 77 + data[i + 1]! * 150 + data[i + 2]! * 29) >> 8]!++;
  }
  let background = 0;
  for (let v = 1; v < 256; v++) if (histogram[v]! > histogram[background]!) background = v;
  let ink = 0;
  for (let v = 0; v < 256; v++) if (Math.abs(v - background) > INK_DELTA) ink += histogram[v]!;
  return { ink: pixels ? ink / pixels : 0, background };
}

/** A page with (almost) no pixel clearly off its background colour. */
export function isBlank(image: RgbImage): boolean {
  const pixels = image.width * image.height;
  const { ink } = inkCheck(image);
  return ink * pixels < Math.max(MIN_INK_PIXELS, BLANK_SHARE * pixels);
}

/**
 * Qwen-VL's smart_resize: both sides multiples of `factor`, aspect ratio kept as far as rounding
 * allows, area within [minPixels, maxPixels]. Returns [width, height].
 */
export function smartResize(width: number, height: number, factor: number, minPixels: number, maxPixels: number): [number, number] {
  let h = height;
  let w = width;
  if (h < factor || w < factor) {
    const scale = Math.max(factor / h, factor / w);
    h = Math.round(h * scale);
    w = Math.round(w * scale);
  }
  if (Math.max(h, w) / Math.min(h, w) > 200) {
    throw new Error(`page aspect ratio ${Math.round(Math.max(h, w) / Math.min(h, w))}:1 is beyond the 200:1 the model accepts`);
  }
  let hBar = Math.round(h / factor) * factor;
  let wBar = Math.round(w / factor) * factor;
  if (hBar * wBar > maxPixels) {
    const beta = Math.sqrt((h * w) / maxPixels);
    hBar = Math.max(factor, Math.floor(h / beta / factor) * factor);
    wBar = Math.max(factor, Math.floor(w / beta / factor) * factor);
  } else if (hBar * wBar < minPixels) {
    const beta = Math.sqrt(minPixels / (h * w));
    hBar = Math.ceil((h * beta) / factor) * factor;
    wBar = Math.ceil((w * beta) / factor) * factor;
  }
  return [wBar, hBar];
}

/** Resizes an RGB bitmap with sharp (Lanczos, area-correct when shrinking); no-op at the same size. */
export async function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (image.width === width && image.height === height) return image;
  const { default: sharp } = await import("sharp");
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: "fill", kernel: "lanczos3" })
    .raw()
    .toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height };
}

export interface PatchConfig {
  patchSize: number;
  mergeSize: number;
  temporalPatchSize: number;
  rescale: number;
  mean: readonly number[];
  std: readonly number[];
}

export interface Patches {
  /** Row-major [rows, cols] float32: Qwen-VL's `pixel_values`. */
  data: Float32Array;
  rows: number;
  cols: number;
  /** [t, h, w] in patches: `image_grid_thw`. */
  grid: [number, number, number];
}

/**
 * Qwen-VL's image patches, as its image processor computes them (rescale, normalise, repeat the
 * frame `temporalPatchSize` times, cut into patchSize² patches in merge-window order), without
 * the generic 9-D permute that makes transformers.js take ~0.45 s on a full page. Values are
 * bit-identical: the same float32 operations in the same order (a test compares the two).
 * Both sides of the image must be multiples of patchSize × mergeSize.
 */
export function patchify(image: RgbImage, cfg: PatchConfig): Patches {
  const { patchSize: P, mergeSize: M, temporalPatchSize: T } = cfg;
  const { width, height, data } = image;
  if (width % (P * M) || height % (P * M)) throw new Error(`image ${width}x${height} is not a multiple of ${P * M}`);
  const gh = height / P;
  const gw = width / P;
  const rows = gh * gw;
  const cols = 3 * T * P * P;
  // value(channel, byte), exactly as transformers.js computes it: f32(rescale * v), then f32((x - mean) / std).
  const lut = new Float32Array(3 * 256);
  const scaled = new Float32Array(1);
  for (let c = 0; c < 3; c++) {
    for (let v = 0; v < 256; v++) {
      scaled[0] = cfg.rescale * v;
      lut[c * 256 + v] = (scaled[0]! - cfg.mean[c]!) / cfg.std[c]!;
    }
  }
  const out = new Float32Array(rows * cols);
  let row = 0;
  for (let bh = 0; bh < gh / M; bh++) {
    for (let bw = 0; bw < gw / M; bw++) {
      for (let mh = 0; mh < M; mh++) {
        for (let mw = 0; mw < M; mw++, row++) {
          const y0 = (bh * M + mh) * P;
          const x0 = (bw * M + mw) * P;
          const base = row * cols;
          for (let c = 0; c < 3; c++) {
            for (let py = 0; py < P; py++) {
              const src = ((y0 + py) * width + x0) * 3 + c;
              const dst = base + (c * T * P + py) * P;
              for (let px = 0; px < P; px++) out[dst + px] = lut[c * 256 + data[src + px * 3]!]!;
            }
            // The other temporal copies of the frame.
            for (let t = 1; t < T; t++) out.copyWithin(base + (c * T + t) * P * P, base + c * T * P * P, base + (c * T + 1) * P * P);
          }
        }
      }
    }
  }
  return { data: out, rows, cols, grid: [1, gh, gw] };
}
