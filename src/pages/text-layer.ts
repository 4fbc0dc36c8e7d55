/**
 * A PDF page's own text (its text layer), read with pdf.js instead of rasterizing and OCRing the
 * page, and the judgement of whether it is real text (`--pdf-text auto`).
 *
 * Lines: pdf.js text items, in content-stream order (the order the producer wrote them, which keeps
 * columns apart), are grouped into lines by baseline (same orientation, vertical bands overlapping
 * by half the smaller height); a piece of a line written later (a bold word, a field filled in)
 * rejoins its line when it sits right next to it. Within a line, pieces go left to right (right to
 * left on Arabic/Hebrew lines) and are joined with a space where pdf.js gives one or where the gap
 * is wide enough to be one (a fifth of the font size; a whole font size between Chinese/Japanese
 * characters, which are written without spaces). Boxes are in pixels of the page as it would be
 * rasterized at the page's DPI.
 *
 * Real text: enough characters, nearly all of them mapped to Unicode (no private-use code points,
 * U+FFFD or control characters, and not many glyphs drawn without any text), mostly letters and
 * digits. A page with little text (a scanner's "Scanned with …" stamp, a page number) is also
 * checked for an image covering most of the page: that is a scan, and it is OCR'd.
 */
import { UsageError } from "../errors.js";
import type { BBox, Line } from "../types.js";

export type PdfTextMode = "auto" | "ocr" | "text";
export const PDF_TEXT_MODES: readonly PdfTextMode[] = ["auto", "ocr", "text"];

/**
 * The mode a run really uses: `auto` takes text layers only when the template's answer is the
 * page's text (no template, plain, grouped); a template that asks for JSON fields or Markdown
 * needs the engine to look at the page, so then every page is OCR'd.
 */
export function effectivePdfText(mode: PdfTextMode = "auto", prompt?: { output?: string }): PdfTextMode {
  if (!PDF_TEXT_MODES.includes(mode)) throw new UsageError(`--pdf-text must be one of ${PDF_TEXT_MODES.join(", ")}, not '${String(mode)}'`);
  return mode === "auto" && prompt?.output !== undefined && prompt.output !== "text" ? "ocr" : mode;
}

/** The parts of a pdf.js TextItem used here. */
export interface TextItemLike {
  str: string;
  dir?: string;
  width: number;
  height: number;
  transform: number[];
  fontName: string;
  hasEOL?: boolean;
}

/** The parts of a pdf.js text style used here. */
export interface TextStyleLike {
  ascent?: number | null;
  descent?: number | null;
  vertical?: boolean;
}

/** The page as it would be rendered: pdf.js viewport at the page's DPI. */
export interface ViewportLike {
  transform: number[];
  scale: number;
  width: number;
  height: number;
}

export interface TextStats {
  /** Characters other than whitespace, in the extracted text. */
  chars: number;
  /** Of those, characters that cannot be real text: private use, U+FFFD, controls, unassigned. */
  unreadable: number;
  /** Letters, digits and marks among `chars`. */
  alphanumeric: number;
  /** Glyphs pdf.js saw drawn but could not map to any text (estimated from their advance). */
  unmappedGlyphs: number;
}

export interface ExtractedText {
  text: string;
  lines: Line[];
  stats: TextStats;
}

export interface Judgement {
  /** Use the text layer for this page. */
  use: boolean;
  /** Why not (or what to double-check); for warnings. */
  reason?: string;
  /** Little text: only trust it if no image covers most of the page. */
  thin: boolean;
  /** There is text, but it does not read as text (unmapped glyphs, private use, symbols): worth a warning. */
  garbled: boolean;
}

/** Fewer characters than this is no text layer to speak of (a page number, a stray mark). */
export const MIN_CHARS = 16;
/** Below this many characters, a page whose area is mostly an image is a scan with a stamp. */
export const THIN_CHARS = 200;
/** Share of the page an image must cover for a thin text layer to be ignored. */
export const SCAN_COVERAGE = 0.5;
const MAX_UNREADABLE_SHARE = 0.05;
const MAX_UNMAPPED_SHARE = 0.1;
const MIN_ALPHANUMERIC_SHARE = 0.5;

export function judgeTextLayer(stats: TextStats): Judgement {
  const { chars, unreadable, unmappedGlyphs, alphanumeric } = stats;
  const thin = chars < THIN_CHARS;
  if (unmappedGlyphs > 0 && unmappedGlyphs >= MAX_UNMAPPED_SHARE * (chars + unmappedGlyphs)) {
    return { use: false, thin, garbled: true, reason: `about ${unmappedGlyphs} of its glyphs have no Unicode mapping` };
  }
  if (chars === 0) return { use: false, thin, garbled: false, reason: "no text" };
  if (unreadable > MAX_UNREADABLE_SHARE * chars) {
    return { use: false, thin, garbled: true, reason: `${unreadable} of its ${chars} characters are unreadable (private use, U+FFFD or control characters)` };
  }
  if (chars < MIN_CHARS) return { use: false, thin, garbled: false, reason: `only ${chars} characters` };
  if (alphanumeric < MIN_ALPHANUMERIC_SHARE * (chars - unreadable)) {
    return { use: false, thin, garbled: true, reason: `only ${alphanumeric} of its ${chars} characters are letters or digits` };
  }
  return { use: true, thin, garbled: false };
}

const UNREADABLE = /[\p{Co}\p{Cn}\p{Cs}\uFFFD\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/u;
const ALPHANUMERIC = /[\p{L}\p{N}\p{M}]/u;
const WHITESPACE = /^\s*$/u;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Bopomofo}\u3000-\u303f\uff00-\uffef]/u;
const RTL = /[\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}]/u;
const STRONG = /[\p{L}]/u;
/** Kangxi radicals and CJK radical supplements: producers' ToUnicode maps often send ideographs there; NFKC brings them back. */
const RADICALS = /[\u2e80-\u2eff\u2f00-\u2fdf]/gu;

interface Piece {
  str: string;
  /** Reading-direction frame: position along the line, and of the baseline across it. */
  along0: number;
  along1: number;
  top: number;
  bottom: number;
  size: number;
  bbox?: BBox;
  space: boolean;
}

interface LineBuild {
  key: number;
  pieces: Piece[];
  /** The band of the first non-space piece: later pieces must overlap it. */
  top: number;
  bottom: number;
  start: number;
  end: number;
}

/** Builds the page's lines from pdf.js text content. */
export function buildTextLayer(items: readonly unknown[], styles: Record<string, TextStyleLike | undefined>, viewport: ViewportLike): ExtractedText {
  const lines: LineBuild[] = [];
  let current: LineBuild | undefined;
  let unmappedGlyphs = 0;
  for (const raw of items) {
    if (!isTextItem(raw)) continue;
    const style = styles[raw.fontName] ?? {};
    const geometry = place(raw, style, viewport);
    if (!geometry) continue;
    const { piece, key } = geometry;
    if (piece.str === "") {
      // Width without text: glyphs pdf.js could not map to Unicode (or dropped as private use).
      if (raw.width > 0 && raw.height > 0) unmappedGlyphs += Math.max(1, Math.round((piece.along1 - piece.along0) / (0.5 * piece.size)));
      continue;
    }
    if (current && sameLine(current, key, piece)) {
      add(current, piece);
      continue;
    }
    if (piece.space) continue; // a space that starts nothing
    // A piece of an earlier line written later: it rejoins the line it continues.
    const earlier = findAdjacent(lines, key, piece);
    if (earlier) {
      add(earlier, piece);
      current = earlier;
      continue;
    }
    current = { key, pieces: [piece], top: piece.top, bottom: piece.bottom, start: piece.along0, end: piece.along1 };
    lines.push(current);
  }

  const out: Line[] = [];
  let chars = 0;
  let unreadable = 0;
  let alphanumeric = 0;
  for (const line of lines) {
    const text = joinPieces(line.pieces);
    if (!text) continue;
    for (const ch of text) {
      if (/\s/u.test(ch)) continue;
      chars++;
      if (UNREADABLE.test(ch)) unreadable++;
      else if (ALPHANUMERIC.test(ch)) alphanumeric++;
    }
    const bbox = union(line.pieces.map((p) => p.bbox).filter((b): b is BBox => b !== undefined));
    out.push(bbox ? { text, bbox } : { text });
  }
  return { text: out.map((l) => l.text).join("\n"), lines: out, stats: { chars, unreadable, alphanumeric, unmappedGlyphs } };
}

function isTextItem(value: unknown): value is TextItemLike {
  const v = value as Partial<TextItemLike> | null;
  return !!v && typeof v.str === "string" && Array.isArray(v.transform) && v.transform.length === 6 && typeof v.width === "number";
}

/** The item in device pixels: its box, and its extent in its own reading frame. */
function place(item: TextItemLike, style: TextStyleLike, viewport: ViewportLike): { piece: Piece; key: number } | undefined {
  const tx = multiply(viewport.transform, item.transform);
  const size = Math.hypot(tx[2]!, tx[3]!);
  if (!(size > 0) || !tx.every(Number.isFinite)) return undefined;
  let angle = Math.atan2(tx[1]!, tx[0]!);
  if (style.vertical) angle += Math.PI / 2;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  // Along: the reading direction. Down: from the baseline towards the descenders (y grows down).
  const length = (style.vertical ? item.height : item.width) * viewport.scale;
  const ascent = style.ascent && style.ascent > 0 && style.ascent < 2 ? style.ascent : 0.8;
  const descent = style.descent && style.descent < 0 && style.descent > -1 ? style.descent : -0.2;
  const ox = tx[4]!;
  const oy = tx[5]!;
  const along0 = ox * cos + oy * sin;
  const across = -ox * sin + oy * cos;
  const top = across - ascent * size;
  const bottom = across - descent * size;
  const str = normalizeText(item.str);
  const space = str !== "" && WHITESPACE.test(str);
  const piece: Piece = { str: space ? " " : str, along0, along1: along0 + length, top, bottom, size, space };
  if (!space && length > 0) {
    // The four corners, back in page pixels.
    const xs: number[] = [];
    const ys: number[] = [];
    for (const [a, d] of [[along0, top], [along0 + length, top], [along0, bottom], [along0 + length, bottom]] as const) {
      xs.push(a * cos - d * sin);
      ys.push(a * sin + d * cos);
    }
    const clampX = (v: number) => Math.max(0, Math.min(viewport.width, v));
    const clampY = (v: number) => Math.max(0, Math.min(viewport.height, v));
    piece.bbox = [clampX(Math.min(...xs)), clampY(Math.min(...ys)), clampX(Math.max(...xs)), clampY(Math.max(...ys))];
  }
  // Orientation to the nearest degree: lines never mix orientations.
  const key = ((Math.round((angle * 180) / Math.PI) % 360) + 360) % 360;
  return { piece, key };
}

function normalizeText(str: string): string {
  return str.replace(RADICALS, (ch) => ch.normalize("NFKC"));
}

function sameLine(line: LineBuild, key: number, piece: Piece): boolean {
  if (line.key !== key) return false;
  const overlap = Math.min(line.bottom, piece.bottom) - Math.max(line.top, piece.top);
  if (piece.space) return overlap > 0 || piece.bottom <= piece.top;
  return overlap >= 0.5 * Math.min(line.bottom - line.top, piece.bottom - piece.top);
}

/** An earlier line on the same baseline that this piece continues (or precedes) with no gap to speak of. */
function findAdjacent(lines: LineBuild[], key: number, piece: Piece): LineBuild | undefined {
  if (piece.space) return undefined;
  for (let i = lines.length - 1; i >= Math.max(0, lines.length - 64); i--) {
    const line = lines[i]!;
    if (!sameLine(line, key, piece)) continue;
    const near = 2 * piece.size;
    if (piece.along0 >= line.end - 0.5 * piece.size && piece.along0 <= line.end + near) return line;
    if (piece.along1 <= line.start + 0.5 * piece.size && piece.along1 >= line.start - near) return line;
  }
  return undefined;
}

function add(line: LineBuild, piece: Piece): void {
  line.pieces.push(piece);
  if (piece.space) return;
  line.start = Math.min(line.start, piece.along0);
  line.end = Math.max(line.end, piece.along1);
}

/** The line's pieces in reading order, with spaces where the layout has them. */
function joinPieces(pieces: Piece[]): string {
  const letters = pieces.filter((p) => !p.space).map((p) => p.str).join("");
  let strong = 0;
  let rtl = 0;
  for (const ch of letters) {
    if (!STRONG.test(ch)) continue;
    strong++;
    if (RTL.test(ch)) rtl++;
  }
  const rightToLeft = strong > 0 && rtl * 2 > strong;
  const ordered = pieces
    .map((piece, index) => ({ piece, index }))
    .sort((a, b) => (rightToLeft ? b.piece.along1 - a.piece.along1 : a.piece.along0 - b.piece.along0) || a.index - b.index)
    .map((entry) => entry.piece);
  let text = "";
  let previous: Piece | undefined;
  for (const piece of ordered) {
    if (previous && !piece.space && !previous.space && !/\s$/u.test(text) && !/^\s/u.test(piece.str)) {
      const gap = rightToLeft ? previous.along0 - piece.along1 : piece.along0 - previous.along1;
      const size = Math.min(previous.size, piece.size);
      const cjk = CJK.test(text.at(-1) ?? "") && CJK.test(piece.str[0] ?? "");
      if (gap > (cjk ? 1 : 0.2) * size) text += " ";
    }
    text += piece.str;
    previous = piece;
  }
  return text.replace(/\s+/gu, " ").trim();
}

function union(boxes: BBox[]): BBox | undefined {
  if (boxes.length === 0) return undefined;
  let [l, t, r, b] = boxes[0]!;
  for (const [l2, t2, r2, b2] of boxes) {
    l = Math.min(l, l2);
    t = Math.min(t, t2);
    r = Math.max(r, r2);
    b = Math.max(b, b2);
  }
  return [Math.floor(l), Math.floor(t), Math.ceil(r), Math.ceil(b)];
}

/** m1 × m2 for PDF matrices [a b c d e f]. */
function multiply(m1: number[], m2: number[]): number[] {
  const [a1, b1, c1, d1, e1, f1] = m1 as [number, number, number, number, number, number];
  const [a2, b2, c2, d2, e2, f2] = m2 as [number, number, number, number, number, number];
  return [a1 * a2 + c1 * b2, b1 * a2 + d1 * b2, a1 * c2 + c1 * d2, b1 * c2 + d1 * d2, a1 * e2 + c1 * f2 + e1, b1 * e2 + d1 * f2 + f1];
}

/** The pdf.js operator codes used by `imageCoverage`. */
export interface OpCodes {
  save: number;
  restore: number;
  transform: number;
  paintFormXObjectBegin: number;
  paintFormXObjectEnd: number;
  paintImageXObject: number;
  paintInlineImageXObject: number;
  paintImageMaskXObject: number;
  paintSolidColorImageMask: number;
}

/**
 * The largest share of the page (0–1) covered by one image, from the page's operator list:
 * each image fills the unit square of the transformation matrix in force when it is painted.
 */
export function imageCoverage(fnArray: readonly number[], argsArray: readonly unknown[], view: readonly number[], ops: OpCodes): number {
  const [x0, y0, x1, y1] = view as [number, number, number, number];
  const pageArea = Math.abs((x1 - x0) * (y1 - y0));
  if (!(pageArea > 0)) return 0;
  let ctm = [1, 0, 0, 1, 0, 0];
  const stack: number[][] = [];
  let best = 0;
  for (let i = 0; i < fnArray.length; i++) {
    const fn = fnArray[i];
    const args = argsArray[i] as unknown[] | null | undefined;
    switch (fn) {
      case ops.save:
        stack.push(ctm);
        break;
      case ops.restore:
        ctm = stack.pop() ?? ctm;
        break;
      case ops.transform:
        if (args && args.length === 6 && args.every((v) => typeof v === "number")) ctm = multiply(ctm, args as number[]);
        break;
      case ops.paintFormXObjectBegin: {
        stack.push(ctm);
        const matrix = args?.[0];
        if (Array.isArray(matrix) && matrix.length === 6) ctm = multiply(ctm, matrix as number[]);
        else if (ArrayBuffer.isView(matrix) && (matrix as Float32Array).length === 6) ctm = multiply(ctm, [...(matrix as Float32Array)]);
        break;
      }
      case ops.paintFormXObjectEnd:
        ctm = stack.pop() ?? ctm;
        break;
      case ops.paintImageXObject:
      case ops.paintInlineImageXObject:
      case ops.paintImageMaskXObject:
      case ops.paintSolidColorImageMask: {
        const xs: number[] = [];
        const ys: number[] = [];
        for (const [u, v] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
          xs.push(ctm[0]! * u + ctm[2]! * v + ctm[4]!);
          ys.push(ctm[1]! * u + ctm[3]! * v + ctm[5]!);
        }
        const w = Math.max(0, Math.min(Math.max(...xs), Math.max(x0, x1)) - Math.max(Math.min(...xs), Math.min(x0, x1)));
        const h = Math.max(0, Math.min(Math.max(...ys), Math.max(y0, y1)) - Math.max(Math.min(...ys), Math.min(y0, y1)));
        best = Math.max(best, (w * h) / pageArea);
        break;
      }
    }
  }
  return Math.min(1, best);
}
