/** PDF rasterization resolution when none is given: enough for 8-pt print, and what OCR engines expect of a scan. */
export const DEFAULT_DPI = 200;

/**
 * Most pixels one page may have, by default: 40 MP. An A4 page scanned at 600 dpi (4961 x 7016 =
 * 34.8 MP, a common archival setting) passes untouched, and so does A3 at 400 dpi (31 MP); a PDF
 * page past it (posters, drawings, a page with a huge MediaBox) is rendered at a lower DPI and a
 * bigger image scaled down. Past this size no engine here reads better (PP-OCR and Qwen resize
 * pages to a few megapixels anyway), while memory grows: rendering holds an RGBA canvas and the
 * RGB copy, 7 bytes a pixel, so 280 MB at the cap.
 */
export const DEFAULT_MAX_PIXELS = 40_000_000;

/** Longest side of a rendered PDF page (Skia's canvas limit is 32767). */
export const MAX_SIDE = 32_767;

/** 40000000 -> "40 MP", 1500000 -> "1.5 MP". */
export function formatPixels(n: number): string {
  const mp = n / 1e6;
  return `${mp >= 10 ? Math.round(mp) : Math.round(mp * 10) / 10} MP`;
}
