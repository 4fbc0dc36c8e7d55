/**
 * Images through sharp (libvips): EXIF orientation applied, alpha flattened onto white, any
 * colour model or depth (CMYK, 16-bit, grey, palette) converted to 8-bit sRGB. Multi-page TIFFs
 * are read page by page; animated GIF/WebP give their first frame. BMP, which the prebuilt libvips
 * cannot read, is decoded by @napi-rs/canvas (Skia) and then goes through the same pipeline.
 */
import { OcrError, oneLine } from "../errors.js";
import type { ImageFormat } from "../inputs/sniff.js";
import type { Page, RgbImage } from "../types.js";
import { loadBytes, type Loaded } from "./load.js";
import { selectedPages } from "./selection.js";
import type { OpenOptions, OpenedSource, PageFailure } from "./types.js";
import { DEFAULT_MAX_PIXELS, formatPixels } from "./limits.js";

type Sharp = (typeof import("sharp"))["default"];
type SharpInput = string | Buffer | { raw: { data: Buffer; width: number; height: number; channels: 4 } };

/**
 * Largest image decoded at all, in pixels: sharp's own default (0x3FFF², about 268 MP). Larger
 * images are refused with `too_large`; images between `maxPixels` and this are scaled down.
 */
export const MAX_DECODE_PIXELS = 0x3fff * 0x3fff;

interface Decoded {
  image: RgbImage;
  dpi?: number;
  warnings: string[];
  ms: number;
}

export async function openImage(
  name: string,
  loaded: Loaded,
  sniffed: { mime: string; format: ImageFormat },
  opts: OpenOptions,
): Promise<OpenedSource> {
  const sharp: Sharp = (await import("sharp")).default;
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const started = performance.now();

  let input: SharpInput;
  let bmpDensity: number | undefined;
  if (sniffed.format === "bmp") {
    const bmp = await decodeBmp(await loadBytes(loaded));
    input = { raw: { data: bmp.rgba, width: bmp.width, height: bmp.height, channels: 4 } };
    bmpDensity = bmp.dpi;
  } else {
    input = loaded.where === "file" ? loaded.path : loaded.bytes;
  }
  const filePath = typeof input === "string" ? input : undefined;
  const make = (page?: number) => {
    if (typeof input === "object" && "raw" in input) return sharp(input.raw.data, { raw: input.raw });
    return sharp(input, { failOn: "error", limitInputPixels: MAX_DECODE_PIXELS, ...(page === undefined ? {} : { page }) });
  };

  let meta: import("sharp").Metadata;
  try {
    meta = await make().metadata();
  } catch (err) {
    throw imageError(err, "corrupt", filePath);
  }
  const frames = meta.pages ?? 1;
  const multiPage = sniffed.format === "tiff" && frames > 1;
  const pageCount = multiPage ? frames : 1;
  const openWarnings: string[] = [];
  if (!multiPage && frames > 1) {
    openWarnings.push(`animated ${sniffed.format.toUpperCase()} with ${frames} frames: only the first frame is read`);
  }

  const decode = async (page: number): Promise<Decoded> => {
    const t0 = performance.now();
    const img = make(multiPage ? page - 1 : undefined);
    const m = multiPage ? await img.metadata() : meta;
    const { width, height } = m.autoOrient ?? m;
    const warnings = [...openWarnings];
    let pipeline = img.autoOrient();
    let scale = 1;
    if (width * height > maxPixels) {
      scale = Math.sqrt(maxPixels / (width * height));
      const w = Math.max(1, Math.floor(width * scale));
      const h = Math.max(1, Math.floor(height * scale));
      pipeline = pipeline.resize(w, h, { fit: "fill", kernel: "lanczos3" });
      warnings.push(
        `image scaled down from ${width}x${height} to ${w}x${h} px to stay under the ${formatPixels(maxPixels)} pixel cap`,
      );
    }
    pipeline = pipeline.flatten({ background: "#ffffff" }).toColourspace("srgb").removeAlpha();
    const { data, info } = await pipeline.raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new Error(`decoder returned ${info.channels} channels for ${info.width}x${info.height}`);
    }
    const density = bmpDensity ?? m.density;
    const decoded: Decoded = {
      image: { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height },
      warnings,
      ms: performance.now() - t0,
    };
    if (density) decoded.dpi = Math.round(density * scale * 10) / 10;
    return decoded;
  };

  const wanted = selectedPages(opts.pages, pageCount);
  // A single image is decoded now, so that a truncated or undecodable file fails the whole input
  // (corrupt) instead of showing up as a failed page 1.
  let first: Decoded | undefined;
  if (!multiPage && wanted.length > 0) {
    try {
      first = await decode(1);
    } catch (err) {
      throw imageError(err, "corrupt", filePath);
    }
    first.ms = performance.now() - started; // the open's header parsing belongs to this page
  }

  let closed = false;
  return {
    source: name,
    kind: "image",
    mime: sniffed.mime,
    pageCount,
    async *pages(): AsyncGenerator<Page | PageFailure> {
      for (const page of wanted) {
        if (closed || opts.signal?.aborted) return;
        let d: Decoded;
        if (first) {
          d = first;
          first = undefined;
        } else {
          try {
            d = await decode(page);
          } catch (err) {
            yield { page, pages: pageCount, error: imageError(err, "render_failed", filePath) };
            continue;
          }
        }
        const out: Page = { source: name, page, pages: pageCount, image: d.image, rasterizeMs: d.ms, warnings: d.warnings };
        if (d.dpi !== undefined) out.dpi = d.dpi;
        yield out;
      }
    },
    async close() {
      closed = true;
      first = undefined;
    },
  };
}

/** Maps a decoder error: pixel limit → too_large, unknown format → unsupported, else `fallback`. */
function imageError(err: unknown, fallback: "corrupt" | "render_failed", file?: string): OcrError {
  if (err instanceof OcrError) return err;
  let message = oneLine(err instanceof Error ? err.message : String(err));
  // libvips names the file in its messages; the caller already prefixes the source's name.
  if (file) message = message.split(`${file}: `).join("").split(file).join("<file>");
  if (/pixel limit/i.test(message)) {
    return new OcrError("too_large", `image has more than ${formatPixels(MAX_DECODE_PIXELS)} pixels`, { cause: err });
  }
  if (/unsupported image format/i.test(message)) {
    return new OcrError("unsupported", `not an image this build can decode (${message})`, { cause: err });
  }
  return new OcrError(fallback, `cannot decode image: ${message}`, { cause: err });
}

/** Decodes a BMP with Skia (sharp's libvips has no BMP loader) into straight RGBA. */
async function decodeBmp(bytes: Buffer): Promise<{ rgba: Buffer; width: number; height: number; dpi?: number }> {
  // BITMAPINFOHEADER and later: width at 18, height at 22 (negative: top-down), X pixels/metre at 38.
  if (bytes.length < 26) throw new OcrError("corrupt", "cannot decode image: BMP header is truncated");
  const headerSize = bytes.readUInt32LE(14);
  const core = headerSize === 12; // OS/2 BITMAPCOREHEADER: 16-bit sizes
  const width = core ? bytes.readUInt16LE(18) : bytes.readInt32LE(18);
  const height = Math.abs(core ? bytes.readInt16LE(20) : bytes.readInt32LE(22));
  if (width <= 0 || height <= 0) throw new OcrError("corrupt", `cannot decode image: BMP declares ${width}x${height} pixels`);
  if (width * height > MAX_DECODE_PIXELS) {
    throw new OcrError("too_large", `image has more than ${formatPixels(MAX_DECODE_PIXELS)} pixels (${width}x${height})`);
  }
  const ppm = !core && headerSize >= 40 && bytes.length >= 42 ? bytes.readInt32LE(38) : 0;
  const { Image, createCanvas } = await import("@napi-rs/canvas");
  const img = new Image();
  await new Promise<void>((resolve, reject) => {
    img.onload = () => resolve();
    img.onerror = (err: Error) => reject(new OcrError("corrupt", `cannot decode image: ${oneLine(err.message)}`, { cause: err }));
    img.src = bytes;
  });
  if (img.width !== width || img.height !== height) {
    throw new OcrError("corrupt", "cannot decode image: BMP size does not match its header");
  }
  const canvas = createCanvas(width, height);
  try {
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const pixels = ctx.getImageData(0, 0, width, height).data;
    const out: { rgba: Buffer; width: number; height: number; dpi?: number } = {
      rgba: Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength),
      width,
      height,
    };
    if (ppm > 0) out.dpi = Math.round(ppm * 0.0254);
    return out;
  } finally {
    canvas.width = 0;
    canvas.height = 0;
  }
}
