/**
 * Text detection: resize the page the way PaddleOCR's DetResizeForTest does (long side limited,
 * both sides multiples of 32), normalise with ImageNet mean/std on B, G, R planes, run the DB
 * model and turn its probability map into boxes in page coordinates.
 */
import sharp from "sharp";
import type { RgbImage } from "../../types.js";
import { boxesFromMap, DEFAULT_DB_PARAMS, type DbParams } from "./db.js";
import type { Quad } from "./geometry.js";
import { IMAGENET_BGR, rgbToChw } from "./image.js";
import { runModel, type Model, type Runtime } from "./models.js";
import { Scratch } from "./scratch.js";

export interface DetectedBox {
  /** Corners in page pixels: top-left, top-right, bottom-right, bottom-left. */
  quad: Quad;
  /** Mean text probability inside the box. */
  score: number;
}

export interface Detection {
  boxes: DetectedBox[];
  /** Size the page was resized to for the model. */
  width: number;
  height: number;
}

/**
 * Model input size for a page: long side at most `maxSide` and at most `maxPixels` in all (a long
 * receipt keeps more of its resolution than a square page of the same length), never upscaled,
 * both sides multiples of 32.
 */
export function detectionSize(
  width: number,
  height: number,
  maxSide: number,
  maxPixels = Infinity,
): { width: number; height: number } {
  const long = Math.max(width, height);
  const ratio = Math.min(1, maxSide / long, Math.sqrt(maxPixels / (width * height)));
  const round32 = (v: number) => Math.max(32, Math.round((v * ratio) / 32) * 32);
  return { width: round32(width), height: round32(height) };
}

/** Resizes an RGB page to exactly width × height. */
export async function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (image.width === width && image.height === height) return image;
  const { data, info } = await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: 3 },
  })
    .resize(width, height, { fit: "fill", kernel: "linear" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** The page as the detector takes it: resized within `limits` (the page itself when no resize is needed). */
export function detectionInput(image: RgbImage, limits: { maxSide: number; maxPixels: number }): Promise<RgbImage> {
  const size = detectionSize(image.width, image.height, limits.maxSide, limits.maxPixels);
  return resizeRgb(image, size.width, size.height);
}

/** Runs detection on a page already resized for it (`detectionInput`); boxes in the page's own `width` × `height` pixels. */
export async function detectResized(
  rt: Runtime,
  model: Model,
  resized: RgbImage,
  width: number,
  height: number,
  params: DbParams = DEFAULT_DB_PARAMS,
  scratch = new Scratch(),
): Promise<Detection> {
  const out = await scratch.use(3 * resized.width * resized.height, (data) =>
    runModel(rt, model, rgbToChw(resized.data, resized.width, resized.height, IMAGENET_BGR, data), [1, 3, resized.height, resized.width]),
  );
  const mapH = out.dims[2] ?? resized.height;
  const mapW = out.dims[3] ?? resized.width;
  const found = boxesFromMap({ data: out.data, width: mapW, height: mapH }, params);
  const sx = width / mapW;
  const sy = height / mapH;
  const boxes: DetectedBox[] = [];
  for (const b of found) {
    const quad = b.quad.map((p) => ({
      x: Math.min(width, Math.max(0, p.x * sx)),
      y: Math.min(height, Math.max(0, p.y * sy)),
    })) as Quad;
    // PaddleOCR drops boxes 3 px or thinner once mapped back onto the page.
    const w = Math.hypot(quad[1].x - quad[0].x, quad[1].y - quad[0].y);
    const h = Math.hypot(quad[3].x - quad[0].x, quad[3].y - quad[0].y);
    if (w <= 3 || h <= 3) continue;
    boxes.push({ quad, score: b.score });
  }
  return { boxes, width: resized.width, height: resized.height };
}
