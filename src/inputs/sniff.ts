/**
 * What a file is, from its first bytes (never from its name). `file-type` is loaded lazily so that
 * importing this module costs nothing until a file is actually sniffed.
 */

/** Image formats the `pages/` stage decodes: sharp's prebuilt libvips, plus BMP via @napi-rs/canvas. */
export type ImageFormat = "png" | "jpeg" | "webp" | "gif" | "tiff" | "avif" | "bmp";

export type Sniffed =
  | { kind: "pdf"; mime: "application/pdf" }
  | { kind: "image"; mime: string; format: ImageFormat }
  /** Recognised but not readable here; `mime` names what was detected (`text/plain`, `image/heic`...). */
  | { kind: "unsupported"; mime: string; hint?: string };

/** How many leading bytes `sniff` looks at (file-type's recommended sample size). */
export const SNIFF_BYTES = 4100;

const IMAGE_MIMES: Record<string, ImageFormat> = {
  "image/png": "png",
  "image/apng": "png",
  "image/jpeg": "jpeg",
  "image/webp": "webp",
  "image/gif": "gif",
  "image/tiff": "tiff",
  "image/avif": "avif",
  "image/bmp": "bmp",
};

/** Formats people try often enough that a specific way out is worth printing. */
const HINTS: Record<string, string> = {
  "image/heic": "HEIC needs a libvips with HEVC support; convert it to JPEG or PNG first",
  "image/heif": "HEIF needs a libvips with HEVC support; convert it to JPEG or PNG first",
  "image/heic-sequence": "HEIC needs a libvips with HEVC support; convert it to JPEG or PNG first",
  "image/jp2": "JPEG 2000 is not supported; convert it to PNG first",
  "image/jpx": "JPEG 2000 is not supported; convert it to PNG first",
  "image/jxl": "JPEG XL is not supported; convert it to PNG first",
  "image/vnd.djvu": "DjVu is not supported; convert it to PDF first (e.g. ddjvu -format=pdf)",
};

const PDF_MAGIC = [0x25, 0x50, 0x44, 0x46, 0x2d]; // "%PDF-"

/** True when "%PDF-" starts within the first 1024 bytes (readers accept leading junk up to there). */
function isPdf(head: Uint8Array): boolean {
  const end = Math.min(head.length, 1024) - PDF_MAGIC.length;
  outer: for (let i = 0; i <= end; i++) {
    for (let j = 0; j < PDF_MAGIC.length; j++) if (head[i + j] !== PDF_MAGIC[j]) continue outer;
    return true;
  }
  return false;
}

function isTiff(head: Uint8Array): boolean {
  if (head.length < 8) return false;
  const le = head[0] === 0x49 && head[1] === 0x49 && (head[2] === 42 || head[2] === 43) && head[3] === 0;
  const be = head[0] === 0x4d && head[1] === 0x4d && head[2] === 0 && (head[3] === 42 || head[3] === 43);
  return le || be;
}

/** Valid UTF-8 (a cut-off sequence at the very end allowed) with no NUL and few control bytes. */
function looksLikeText(head: Uint8Array): boolean {
  if (head.length === 0) return false;
  let controls = 0;
  for (let i = 0; i < head.length; i++) {
    const b = head[i]!;
    if (b === 0) return false;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x1b) controls++;
  }
  if (controls > head.length / 100) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * Classifies a file by its first bytes (pass at least `SNIFF_BYTES` when the file is that long).
 * An empty buffer is `unsupported` with mime `inode/x-empty`; callers report `empty` before this.
 */
export async function sniff(head: Uint8Array): Promise<Sniffed> {
  if (head.length === 0) return { kind: "unsupported", mime: "inode/x-empty" };
  if (isPdf(head)) return { kind: "pdf", mime: "application/pdf" };
  const { fileTypeFromBuffer } = await import("file-type");
  const detected = await fileTypeFromBuffer(head);
  if (detected) {
    const format = IMAGE_MIMES[detected.mime];
    if (format) return { kind: "image", mime: detected.mime === "image/apng" ? "image/png" : detected.mime, format };
    const hint = HINTS[detected.mime];
    return hint ? { kind: "unsupported", mime: detected.mime, hint } : { kind: "unsupported", mime: detected.mime };
  }
  // file-type follows a TIFF's first IFD, which writers often put at the end of the file, past
  // the head it was given: fall back to the byte-order mark and magic number (42, or 43 BigTIFF).
  if (isTiff(head)) return { kind: "image", mime: "image/tiff", format: "tiff" };
  if (looksLikeText(head)) {
    const start = new TextDecoder().decode(head).trimStart().toLowerCase();
    if (start.startsWith("<") && start.includes("<svg")) {
      return { kind: "unsupported", mime: "image/svg+xml", hint: "SVG is not supported; export it to PNG or PDF first" };
    }
    return { kind: "unsupported", mime: "text/plain" };
  }
  return { kind: "unsupported", mime: "application/octet-stream" };
}

/** The message of an `unsupported` error for a sniff result. */
export function unsupportedMessage(sniffed: Extract<Sniffed, { kind: "unsupported" }>): string {
  const base = `not an image or PDF (detected: ${sniffed.mime})`;
  return sniffed.hint ? `${base}: ${sniffed.hint}` : base;
}
