/**
 * Red ink: stamps ("PAID", a date, a company seal) printed over a receipt's or an invoice's text.
 * The detector loses lines a stamp crosses and the recogniser reads the stamp's strokes as
 * characters. Forms processing has long used colour dropout for this: in the red channel alone,
 * red ink is as light as the paper while black, blue and purple ink stay dark. PP-OCR reads colour,
 * so the dropout is done in colour: a reddish pixel becomes the grey of its red channel, lifted.
 *
 * Red text is text too (a red heading, a total printed in red): the page is also detected as it
 * is, and lines found only there, in red ink, are read as printed.
 *
 * Nothing is done to the full-resolution page (a 300-dpi A4 scan is 26 MB of RGB, and a copy of it
 * showed in the peak memory): the dropout is applied to the detector's downscaled input and to each
 * line crop as it is sampled.
 */
import type { RgbImage } from "../../types.js";
import { quadBounds, type Quad } from "./geometry.js";
import type { Normalisation } from "./image.js";

/**
 * How much redder than its other channels a pixel must be to be taken as (partly) red ink.
 * Low on purpose: a stamp's anti-aliased and JPEG-smeared edges are only faintly red, and for a
 * pixel that is barely tinted the change is as small as the tint.
 */
export const DROPOUT_MARGIN = 8;
/**
 * Red ink is darker than paper even in the red channel: a reddish pixel is lifted towards white in
 * proportion to its redness, so a stamp leaves no grey ghost strokes for the detector to find,
 * while the black ink a stamp covers (no redness) keeps its darkness.
 */
const LIFT = 0.25;
/** A pixel that is plainly red ink: what decides whether a page has any. */
const INK_MARGIN = 60;
const INK_MIN_RED = 100;
/** Share of a page's (sampled) pixels in plain red ink from which the page is treated. */
export const RED_PAGE_SHARE = 0.0005;
/** Share of a box's pixels in plain red ink from which a line of the original may be red text. */
export const RED_LINE_SHARE = 0.02;
/** Share of a line's pixels in plain red ink from which a stamp is taken to reach into it. */
export const RED_TOUCH_SHARE = 0.001;

function plainRed(r: number, g: number, b: number): boolean {
  return r >= INK_MIN_RED && r - (g > b ? g : b) > INK_MARGIN;
}

/** Whether a page carries red ink worth dropping (every 4th pixel of every 2nd row is looked at). */
export function hasRedInk(image: RgbImage, share = RED_PAGE_SHARE): boolean {
  const { data, width, height } = image;
  let seen = 0;
  let red = 0;
  for (let y = 0; y < height; y += 2) {
    let i = y * width * 3;
    const end = i + width * 3;
    for (; i < end; i += 12) {
      seen++;
      if (plainRed(data[i], data[i + 1], data[i + 2])) red++;
    }
  }
  return seen > 0 && red / seen >= share;
}

/** A copy of the page with red ink dropped out: each reddish pixel set to the grey of its red channel, lifted by its redness. */
export function dropRedInk(image: RgbImage, margin = DROPOUT_MARGIN): RgbImage {
  const src = image.data;
  const data = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i += 3) {
    const r = src[i];
    const g = src[i + 1];
    const b = src[i + 2];
    const redness = r - (g > b ? g : b);
    if (redness > margin) {
      const v = Math.min(255, r + LIFT * redness);
      data[i] = v;
      data[i + 1] = v;
      data[i + 2] = v;
    } else {
      data[i] = r;
      data[i + 1] = g;
      data[i + 2] = b;
    }
  }
  return { data, width: image.width, height: image.height };
}

/**
 * The same dropout on a crop already sampled into a normalised CHW tensor (B, G, R planes,
 * `tensorWidth` wide, the first `width` columns filled), in place.
 */
export function dropRedInkInTensor(out: Float32Array, width: number, height: number, tensorWidth: number, norm: Normalisation, margin = DROPOUT_MARGIN): void {
  const plane = tensorWidth * height;
  const [sb, sg, sr] = norm.scale;
  const [ob, og, or] = norm.offset;
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const d = j * tensorWidth + i;
      const b = (out[d] - ob) / sb;
      const g = (out[plane + d] - og) / sg;
      const r = (out[2 * plane + d] - or) / sr;
      const redness = r - (g > b ? g : b);
      if (redness <= margin) continue;
      const v = Math.min(255, r + LIFT * redness);
      out[d] = v * sb + ob;
      out[plane + d] = v * sg + og;
      out[2 * plane + d] = v * sr + or;
    }
  }
}

interface Bounds {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

function clampBounds(b: Bounds, width: number, height: number): Bounds {
  return {
    left: Math.max(0, Math.floor(b.left)),
    top: Math.max(0, Math.floor(b.top)),
    right: Math.min(width, Math.ceil(b.right)),
    bottom: Math.min(height, Math.ceil(b.bottom)),
  };
}

/** Share of `box`'s bounds covered by the union of `others`' bounds (a grid count; boxes are few). */
function coveredShare(box: Bounds, others: readonly Bounds[]): number {
  const w = box.right - box.left;
  const h = box.bottom - box.top;
  if (w <= 0 || h <= 0) return 1;
  const near = others.filter((o) => o.right > box.left && o.left < box.right && o.bottom > box.top && o.top < box.bottom);
  if (!near.length) return 0;
  const steps = 16;
  let covered = 0;
  for (let j = 0; j < steps; j++) {
    const y = box.top + ((j + 0.5) * h) / steps;
    for (let i = 0; i < steps * 2; i++) {
      const x = box.left + ((i + 0.5) * w) / (steps * 2);
      if (near.some((o) => x >= o.left && x < o.right && y >= o.top && y < o.bottom)) covered++;
    }
  }
  return covered / (steps * steps * 2);
}

function redShareIn(image: RgbImage, b: Bounds): number {
  const { data, width } = image;
  let red = 0;
  let all = 0;
  for (let y = b.top; y < b.bottom; y++) {
    for (let x = b.left; x < b.right; x++) {
      const i = (y * width + x) * 3;
      all++;
      if (plainRed(data[i], data[i + 1], data[i + 2])) red++;
    }
  }
  return all ? red / all : 0;
}

/**
 * Share of the red-ink pixels inside `b` that lie in the columns of the lines in `others` sharing
 * its height. A stamp crossing a black line puts its red over that line's own columns; red text
 * beside black text on one line ("Total" then "RM 125.40" in red) lies in columns of its own.
 */
function redColumnsCovered(image: RgbImage, b: Bounds, others: readonly Bounds[]): number {
  const h = b.bottom - b.top;
  const beside = others.filter((o) => o.right > b.left && o.left < b.right && Math.min(o.bottom, b.bottom) - Math.max(o.top, b.top) > h / 3);
  const { data, width } = image;
  let red = 0;
  let covered = 0;
  for (let x = b.left; x < b.right; x++) {
    let column = 0;
    for (let y = b.top; y < b.bottom; y++) {
      const i = (y * width + x) * 3;
      if (plainRed(data[i], data[i + 1], data[i + 2])) column++;
    }
    red += column;
    if (column && beside.some((o) => x >= o.left && x < o.right)) covered += column;
  }
  return red ? covered / red : 1;
}

/** The lines of a page with red ink, split by how they are read. */
export interface RedInkLines {
  /** Read with red ink dropped out of their crops: lines found after dropout that a stamp reaches. */
  dropout: Quad[];
  /** Read as they are: lines found after dropout that no red ink reaches. */
  plain: Quad[];
  /** Read as they are, and never merged with a line read with dropout: lines printed in red (with what shares the line). */
  red: Quad[];
}

/**
 * Which lines to read, and how, from the lines found on the original page and after dropout
 * (quads in `original`'s pixels). A line of the original with red ink that the lines found after
 * dropout do not account for (its red lies in columns of its own) is red text: it is kept, read
 * as printed, and replaces the lines found after dropout inside it. Of the rest, lines found after
 * dropout are read with the dropout only where red ink reaches into them.
 */
export function separateRedLines(original: RgbImage, found: readonly Quad[], foundAfterDropout: readonly Quad[]): RedInkLines {
  const { width, height } = original;
  const after = foundAfterDropout.map((q) => clampBounds(quadBounds(q), width, height));
  const printedRed: Quad[] = [];
  const red: Bounds[] = [];
  for (const q of found) {
    const b = clampBounds(quadBounds(q), width, height);
    if (redShareIn(original, b) < RED_LINE_SHARE || redColumnsCovered(original, b, after) >= 0.5) continue;
    printedRed.push(q);
    red.push(b);
  }
  const lines: RedInkLines = { dropout: [], plain: [], red: printedRed };
  foundAfterDropout.forEach((q, i) => {
    if (red.length && coveredShare(after[i], red) >= 0.5) return;
    (redShareIn(original, after[i]) >= RED_TOUCH_SHARE ? lines.dropout : lines.plain).push(q);
  });
  return lines;
}
