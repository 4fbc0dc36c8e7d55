import type { OcrError } from "../errors.js";
import type { Page } from "../types.js";
import type { PageSelection } from "./selection.js";
import type { PdfTextMode } from "./text-layer.js";

/** A page that could not be rasterized; the source's other pages go on. */
export interface PageFailure {
  /** 1-based page number. */
  page: number;
  /** Pages in the source. */
  pages: number;
  /** `render_failed` for pages that fail to render. */
  error: OcrError;
}

export interface OpenOptions {
  /** PDF rasterization resolution; defaults to `DEFAULT_DPI` (200). */
  dpi?: number;
  /** Most pixels (width × height) one page may have: PDF pages are rendered at a lower DPI and images scaled down to fit, with a warning on the page. Defaults to `DEFAULT_MAX_PIXELS`. */
  maxPixels?: number;
  /** Pages to read; every page when absent. */
  pages?: PageSelection;
  /** Stops `pages()`: a PDF page being rendered is cancelled and no further page is produced. */
  signal?: AbortSignal;
  /**
   * PDF pages' own text: `ocr` (the default here) rasterizes every page; `auto` takes a page's
   * text layer when it is real text and rasterizes only the others; `text` never rasterizes (a
   * page without text gets empty text and a warning). Pages whose text is taken carry `textLayer`.
   */
  pdfText?: PdfTextMode;
}

/** An input that has been opened and recognised; its pages are produced one at a time. */
export interface OpenedSource {
  /** The source's name (`Source.name`). */
  source: string;
  kind: "image" | "pdf";
  /** Detected from the bytes, e.g. `application/pdf`, `image/png`. */
  mime: string;
  /** Pages in the source (frames of a multi-page TIFF, 1 for other images). */
  pageCount: number;
  /** The selected pages in document order, each rasterized on demand and released by the caller; iterate once. */
  pages(): AsyncIterable<Page | PageFailure>;
  /** Releases the document (PDF worker state, file handles). Safe to call more than once. */
  close(): Promise<void>;
}

/** Tells a failed page from a rendered one. */
export function isPageFailure(item: Page | PageFailure): item is PageFailure {
  return "error" in item;
}
