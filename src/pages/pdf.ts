/**
 * PDFs through pdfjs-dist (legacy build, the one meant for Node) and @napi-rs/canvas. Files are
 * read by range, so only the parts a page needs are loaded; pages are rendered one at a time onto
 * a white canvas that is released as soon as its pixels are copied out. With `pdfText` auto or
 * text, a page's own text layer is read first (text-layer.ts) and a page whose text is taken is
 * not rendered at all.
 */
import { promises as fs } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { OcrError, oneLine } from "../errors.js";
import type { Page, TextLayer } from "../types.js";
import { DEFAULT_DPI, DEFAULT_MAX_PIXELS, MAX_SIDE, formatPixels } from "./limits.js";
import { fileError, type Loaded } from "./load.js";
import { selectedPages } from "./selection.js";
import { buildTextLayer, imageCoverage, judgeTextLayer, SCAN_COVERAGE, type PdfTextMode, type TextStyleLike } from "./text-layer.js";
import type { OpenOptions, OpenedSource, PageFailure } from "./types.js";

type Pdfjs = typeof import("pdfjs-dist/legacy/build/pdf.mjs");
type PDFDocumentProxy = import("pdfjs-dist/legacy/build/pdf.mjs").PDFDocumentProxy;
type PDFPageProxy = import("pdfjs-dist/legacy/build/pdf.mjs").PDFPageProxy;
type RenderParameters = Parameters<PDFPageProxy["render"]>[0];
type PageViewport = ReturnType<PDFPageProxy["getViewport"]>;

/** The data directories pdfjs-dist ships, as file paths with a trailing slash (what pdfjs wants). */
export function pdfjsDataDirs(): { cMapUrl: string; standardFontDataUrl: string; wasmUrl: string; iccUrl: string } {
  const require = createRequire(import.meta.url);
  const root = path.dirname(require.resolve("pdfjs-dist/package.json"));
  const dir = (name: string) => path.join(root, name) + path.sep;
  return { cMapUrl: dir("cmaps"), standardFontDataUrl: dir("standard_fonts"), wasmUrl: dir("wasm"), iccUrl: dir("iccs") };
}

/**
 * The getDocument settings every load uses. Without the CMaps and standard font data, text in
 * non-embedded and CID fonts (most CJK PDFs) renders as boxes or not at all; `verbosity: 0` keeps
 * pdfjs' warnings off stdout, which may be carrying our JSONL.
 */
export function pdfjsOptions() {
  return {
    ...pdfjsDataDirs(),
    cMapPacked: true,
    disableFontFace: true,
    useSystemFonts: false,
    isEvalSupported: false,
    enableXfa: false,
    verbosity: 0,
  } as const;
}

export async function openPdf(name: string, loaded: Loaded, opts: OpenOptions): Promise<OpenedSource> {
  const pdfjs: Pdfjs = await import("pdfjs-dist/legacy/build/pdf.mjs");
  const { createCanvas } = await import("@napi-rs/canvas");
  const requestedDpi = opts.dpi ?? DEFAULT_DPI;
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  const pdfText: PdfTextMode = opts.pdfText ?? "ocr";
  if (!(requestedDpi > 0) || !(maxPixels > 0)) throw new RangeError("dpi and maxPixels must be positive");

  const started = performance.now();
  let source: { url: URL } | { data: Uint8Array };
  if (loaded.where === "file") {
    // pdfjs lstat()s the path for its size: hand it the symlink's target, not the link.
    const real = await fs.realpath(loaded.path).catch((err: unknown) => {
      throw fileError(err);
    });
    source = { url: pathToFileURL(real) };
  } else {
    // pdfjs may transfer (detach) the array it is given: give it a copy of its own.
    source = { data: new Uint8Array(loaded.bytes) };
  }
  const task = pdfjs.getDocument({
    ...source,
    ...pdfjsOptions(),
    // Read by range (64 KiB chunks) and only what is asked for, never the whole file up front.
    disableStream: true,
    disableAutoFetch: true,
  });
  let doc: PDFDocumentProxy;
  try {
    doc = await task.promise;
  } catch (err) {
    await task.destroy().catch(() => {});
    throw pdfError(err);
  }
  const pageCount = doc.numPages;
  if (pageCount === 0) {
    await doc.destroy().catch(() => {});
    throw new OcrError("empty", "PDF has no pages");
  }
  let openMs = performance.now() - started;

  /** The page's size in pixels at the DPI it is (or would be) rasterized at: the requested one, lowered to fit the caps. */
  const geometry = (page: PDFPageProxy) => {
    const size = page.getViewport({ scale: 1 }); // in points, /Rotate and /UserUnit applied
    if (!(size.width > 0 && size.height > 0)) throw new Error(`page has no area (${size.width}x${size.height} pt)`);
    const warnings: string[] = [];
    let dpi = requestedDpi;
    const px = (d: number) => [Math.round((size.width * d) / 72), Math.round((size.height * d) / 72)] as const;
    let [w, h] = px(dpi);
    if (w * h > maxPixels || Math.max(w, h) > MAX_SIDE) {
      const byArea = 72 * Math.sqrt(maxPixels / (size.width * size.height));
      const bySide = (72 * MAX_SIDE) / Math.max(size.width, size.height);
      // A whole number of DPI, rounded down, so the page stays under the cap after rounding.
      dpi = Math.max(1, Math.floor(Math.min(byArea, bySide)));
      const reason = w * h > maxPixels ? `the ${formatPixels(maxPixels)} pixel cap` : `the ${MAX_SIDE} px side limit`;
      const from = `${w}x${h}`;
      [w, h] = px(dpi);
      warnings.push(`rendered at ${dpi} dpi instead of ${requestedDpi}: ${from} px would exceed ${reason} (now ${w}x${h})`);
    }
    return { dpi, w, h, warnings, viewport: page.getViewport({ scale: dpi / 72 }) };
  };

  const readPage = async (pageNumber: number): Promise<Page> => {
    const t0 = performance.now();
    const page = await doc.getPage(pageNumber);
    try {
      const geo = geometry(page);
      const warnings: string[] = [];
      if (pdfText !== "ocr") {
        // A text layer pdf.js cannot read fails the page in `text` mode; `auto` OCRs it instead.
        const layer = await readTextLayer(page, geo.viewport, pdfjs.OPS, pdfText).catch((err: unknown) => {
          if (pdfText === "text") throw err;
          const message = oneLine(err instanceof Error ? err.message : String(err));
          return { use: false, text: "", lines: [], warnings: [`the page's text layer could not be read (${message}): OCR'd instead`] };
        });
        if (layer.use || pdfText === "text") {
          const rasterizeMs = performance.now() - t0 + openMs;
          openMs = 0;
          const textLayer: TextLayer = { text: layer.text, lines: layer.lines, width: geo.w, height: geo.h };
          const image = { data: new Uint8Array(0), width: 0, height: 0 };
          return { source: name, page: pageNumber, pages: pageCount, image, dpi: geo.dpi, rasterizeMs, warnings: layer.warnings, textLayer };
        }
        warnings.push(...layer.warnings);
      }
      return await renderPage(page, geo, t0, warnings);
    } finally {
      page.cleanup();
    }
  };

  const renderPage = async (page: PDFPageProxy, geo: ReturnType<typeof geometry>, t0: number, notes: string[]): Promise<Page> => {
    let canvas: import("@napi-rs/canvas").Canvas | undefined;
    try {
      const { dpi, w, h, viewport } = geo;
      const warnings = [...geo.warnings, ...notes];
      canvas = createCanvas(Math.max(1, w), Math.max(1, h));
      const ctx = canvas.getContext("2d");
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      const task = page.render({
        // pdfjs types its parameters with the DOM's canvas; @napi-rs/canvas is what it uses in Node.
        canvasContext: ctx as unknown as RenderParameters["canvasContext"],
        canvas: canvas as unknown as RenderParameters["canvas"],
        viewport,
        intent: "print",
        background: "#ffffff",
      });
      const cancel = () => task.cancel();
      opts.signal?.addEventListener("abort", cancel, { once: true });
      try {
        await task.promise;
      } finally {
        opts.signal?.removeEventListener("abort", cancel);
      }
      warnings.push(...(await missingCjkFontWarnings(page)));
      // canvas.data() is the surface itself (no copy, unlike getImageData, which costs ~40 ms a page
      // at 200 dpi); it is premultiplied, which changes nothing on an opaque page.
      const rgba = rawIsRgba(createCanvas) ? canvas.data() : ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      const image = { data: rgbaToRgb(rgba), width: canvas.width, height: canvas.height };
      const rasterizeMs = performance.now() - t0 + openMs;
      openMs = 0; // the document's parsing is charged to the first page read
      return { source: name, page: page.pageNumber, pages: pageCount, image, dpi, rasterizeMs, warnings };
    } finally {
      if (canvas) {
        canvas.width = 0;
        canvas.height = 0;
      }
    }
  };

  const wanted = selectedPages(opts.pages, pageCount);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await doc.destroy().catch(() => {});
  };
  return {
    source: name,
    kind: "pdf",
    mime: "application/pdf",
    pageCount,
    async *pages(): AsyncGenerator<Page | PageFailure> {
      for (const page of wanted) {
        if (closed || opts.signal?.aborted) return;
        let result: Page | PageFailure;
        try {
          result = await readPage(page);
          if (closed || opts.signal?.aborted) return;
        } catch (err) {
          if (closed || opts.signal?.aborted) return;
          const message = oneLine(err instanceof Error ? err.message : String(err));
          result = { page, pages: pageCount, error: new OcrError("render_failed", `cannot render page ${page}: ${message}`, { cause: err }) };
        }
        yield result;
      }
    },
    close,
  };
}

interface ReadTextLayer {
  use: boolean;
  text: string;
  lines: TextLayer["lines"];
  warnings: string[];
}

/**
 * The page's text layer and whether to use it. `auto`: when it is real text (see text-layer.ts),
 * and, for a page with little text, when no image covers most of the page (a scan with a stamp).
 * `text`: always, with a warning when there is none or it looks unreadable.
 */
async function readTextLayer(page: PDFPageProxy, viewport: PageViewport, ops: Pdfjs["OPS"], mode: PdfTextMode): Promise<ReadTextLayer> {
  const content = await page.getTextContent();
  const styles = content.styles as Record<string, TextStyleLike | undefined>;
  const extracted = buildTextLayer(content.items, styles, viewport);
  const verdict = judgeTextLayer(extracted.stats);
  const { reason } = verdict;
  let { use } = verdict;
  if (use && verdict.thin && mode === "auto") {
    // Little text over a page-sized image: a scan with a stamp or an OCR layer of a few words.
    const list = await page.getOperatorList();
    if (imageCoverage(list.fnArray, list.argsArray, page.view, ops) >= SCAN_COVERAGE) use = false;
  }
  const warnings: string[] = [];
  if (mode === "text") {
    if (extracted.stats.chars === 0) warnings.push("the page has no text layer (--pdf-text text: not OCR'd)");
    else if (verdict.garbled) warnings.push(`the page's text layer may not be real text (${reason}); --pdf-text text kept it`);
  } else if (verdict.garbled) {
    // A page with no text, a page number alone or a scanner's stamp is simply OCR'd; a text layer
    // that is there but unreadable is worth saying.
    warnings.push(`the page's text layer was not used (${reason}): OCR'd instead`);
  }
  return { use, text: extracted.text, lines: extracted.lines, warnings };
}

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}]/gu;

/**
 * pdfjs in Node has no system fonts to fall back on: CJK text in a font the PDF does not embed
 * (e.g. STSong-Light, MS-Mincho from older office suites) comes out as empty boxes. Say so on
 * the page, since the OCR text will silently lack it. Costs nothing unless a font is missing.
 */
async function missingCjkFontWarnings(page: PDFPageProxy): Promise<string[]> {
  const missing = new Map<string, string>();
  for (const [id, data] of page.commonObjs) {
    const font = data as { missingFile?: boolean; name?: string } | undefined;
    if (typeof id === "string" && font?.missingFile) missing.set(id, font.name ?? id);
  }
  if (missing.size === 0) return [];
  const counts = new Map<string, number>();
  try {
    const text = await page.getTextContent();
    for (const item of text.items) {
      if (!("str" in item) || !missing.has(item.fontName)) continue;
      const n = item.str.match(CJK)?.length ?? 0;
      if (n > 0) counts.set(item.fontName, (counts.get(item.fontName) ?? 0) + n);
    }
  } catch {
    return [];
  }
  return [...counts].map(
    ([id, n]) =>
      `font "${missing.get(id)}" is not embedded in the PDF and no CJK font can stand in for it: its ${n} CJK characters render as empty boxes and will not be recognised`,
  );
}

/** Drops the alpha channel of an opaque RGBA bitmap (the page was drawn over white). */
let rawRgba: boolean | undefined;

/** Whether the canvas' raw pixels are in R, G, B, A byte order (checked once on a 1 x 1 canvas). */
function rawIsRgba(createCanvas: typeof import("@napi-rs/canvas").createCanvas): boolean {
  if (rawRgba === undefined) {
    const probe = createCanvas(1, 1);
    const ctx = probe.getContext("2d");
    ctx.fillStyle = "rgb(10, 20, 30)";
    ctx.fillRect(0, 0, 1, 1);
    const px = probe.data();
    rawRgba = px.length === 4 && px[0] === 10 && px[1] === 20 && px[2] === 30 && px[3] === 255;
  }
  return rawRgba;
}

function rgbaToRgb(rgba: Uint8Array | Uint8ClampedArray): Uint8Array {
  const n = rgba.length >>> 2;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i]!;
    rgb[j + 1] = rgba[i + 1]!;
    rgb[j + 2] = rgba[i + 2]!;
  }
  return rgb;
}

/** Maps a getDocument failure: a password → encrypted, bad structure → corrupt, missing → not_found. */
function pdfError(err: unknown): OcrError {
  if (err instanceof OcrError) return err;
  const e = err as { name?: string; message?: string; code?: number | string; status?: number };
  const message = oneLine(e?.message ?? String(err));
  switch (e?.name) {
    case "PasswordException":
      return new OcrError("encrypted", "PDF is password-protected", { cause: err });
    case "InvalidPDFException":
      return new OcrError("corrupt", `not a readable PDF: ${message}`, { cause: err });
    case "ResponseException":
    case "MissingPDFException":
      return e.status === 0 || /missing/i.test(message)
        ? new OcrError("not_found", "no such file", { cause: err })
        : new OcrError("unreadable", `cannot read: ${message}`, { cause: err });
  }
  if (typeof e?.code === "string" && e.code.startsWith("E")) return fileError(err);
  return new OcrError("corrupt", `cannot open PDF: ${message}`, { cause: err });
}
