/**
 * The `pages/` stage: opens a source, recognises it from its bytes, and produces its pages as
 * 8-bit RGB bitmaps, one at a time. Heavy modules (sharp, pdfjs-dist, @napi-rs/canvas, file-type)
 * are imported on first use, so importing this module is cheap.
 */
import { OcrError } from "../errors.js";
import type { Source } from "../inputs/index.js";
import { sniff, unsupportedMessage } from "../inputs/sniff.js";
import { loadSource } from "./load.js";
import type { OpenOptions, OpenedSource } from "./types.js";

export { DEFAULT_DPI, DEFAULT_MAX_PIXELS, MAX_SIDE } from "./limits.js";
export { parsePageSelection, selectedPages, isPageSelected, formatPageSelection } from "./selection.js";
export type { PageRange, PageSelection } from "./selection.js";
export { isPageFailure } from "./types.js";
export type { OpenOptions, OpenedSource, PageFailure } from "./types.js";

/**
 * Opens one source. Throws an `OcrError` when the input as a whole cannot be read: `not_found`,
 * `unreadable`, `empty` (0 bytes, or a PDF without pages), `unsupported` (not an image or PDF),
 * `corrupt` (truncated or undecodable), `encrypted` (password-protected PDF), `too_large`. A page
 * that fails later comes out of `pages()` as a `PageFailure` (`render_failed`) and the others go
 * on. Call `close()` when done, also after an early break.
 */
export async function openSource(source: Source, opts: OpenOptions = {}): Promise<OpenedSource> {
  const loaded = await loadSource(source);
  const sniffed = await sniff(loaded.head);
  switch (sniffed.kind) {
    case "pdf": {
      const { openPdf } = await import("./pdf.js");
      return openPdf(source.name, loaded, opts);
    }
    case "image": {
      const { openImage } = await import("./image.js");
      return openImage(source.name, loaded, sniffed, opts);
    }
    default:
      throw new OcrError("unsupported", unsupportedMessage(sniffed));
  }
}
