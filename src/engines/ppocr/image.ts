/**
 * Pixel work on 8-bit RGB pages: whole-page quarter turns and sampling a text box (any quad) into
 * the normalised float tensor the classifier and recogniser take. The models were trained on
 * OpenCV images, so tensors are written in B, G, R channel order.
 */
import type { RgbImage } from "../../types.js";
import type { Point, Quad } from "./geometry.js";

/** Rotates a page clockwise by 0, 90, 180 or 270 degrees. */
export function rotateImage(image: RgbImage, degrees: number): RgbImage {
  const turn = (((degrees / 90) % 4) + 4) % 4;
  if (turn === 0) return image;
  const { width: w, height: h, data } = image;
  const out = new Uint8Array(data.length);
  const ow = turn === 2 ? w : h;
  const oh = turn === 2 ? h : w;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let nx: number;
      let ny: number;
      if (turn === 1) {
        nx = h - 1 - y;
        ny = x;
      } else if (turn === 2) {
        nx = w - 1 - x;
        ny = h - 1 - y;
      } else {
        nx = y;
        ny = w - 1 - x;
      }
      const s = (y * w + x) * 3;
      const d = (ny * ow + nx) * 3;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  return { data: out, width: ow, height: oh };
}

/**
 * Maps a point of a page rotated clockwise by `degrees` back to the unrotated page
 * (`width`/`height` are the unrotated page's size).
 */
export function unrotatePoint(p: Point, degrees: number, width: number, height: number): Point {
  const turn = (((degrees / 90) % 4) + 4) % 4;
  switch (turn) {
    case 1:
      return { x: p.y, y: height - p.x };
    case 2:
      return { x: width - p.x, y: height - p.y };
    case 3:
      return { x: width - p.y, y: p.x };
    default:
      return p;
  }
}

/** Maps a point of the unrotated page onto the page rotated clockwise by `degrees`. */
export function rotatePoint(p: Point, degrees: number, width: number, height: number): Point {
  const turn = (((degrees / 90) % 4) + 4) % 4;
  switch (turn) {
    case 1:
      return { x: height - p.y, y: p.x };
    case 2:
      return { x: width - p.x, y: height - p.y };
    case 3:
      return { x: p.y, y: width - p.x };
    default:
      return p;
  }
}

/** Per-channel affine normalisation: value = pixel * scale + offset, for B, G, R in that order. */
export interface Normalisation {
  scale: [number, number, number];
  offset: [number, number, number];
}

/** (x / 255 - 0.5) / 0.5, the classifier's and recogniser's normalisation. */
export const SYMMETRIC: Normalisation = {
  scale: [2 / 255, 2 / 255, 2 / 255],
  offset: [-1, -1, -1],
};

/** PaddleOCR's detector normalisation: ImageNet mean/std applied to the B, G, R planes in that order. */
export const IMAGENET_BGR: Normalisation = (() => {
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  return {
    scale: [1 / (255 * std[0]), 1 / (255 * std[1]), 1 / (255 * std[2])],
    offset: [-mean[0] / std[0], -mean[1] / std[1], -mean[2] / std[2]],
  };
})();

/**
 * Writes an interleaved RGB buffer into one CHW float plane set (B, G, R), `tensorWidth` wide
 * (columns beyond the image stay 0).
 */
export function rgbToChw(
  rgb: Uint8Array,
  width: number,
  height: number,
  norm: Normalisation,
  out: Float32Array = new Float32Array(3 * width * height),
  tensorWidth = width,
): Float32Array {
  const plane = tensorWidth * height;
  const [sb, sg, sr] = norm.scale;
  const [ob, og, or] = norm.offset;
  for (let y = 0; y < height; y++) {
    let s = y * width * 3;
    let d = y * tensorWidth;
    for (let x = 0; x < width; x++, s += 3, d++) {
      out[d] = rgb[s + 2] * sb + ob;
      out[plane + d] = rgb[s + 1] * sg + og;
      out[2 * plane + d] = rgb[s] * sr + or;
    }
  }
  return out;
}

const CUBIC_A = -0.75;

/** OpenCV's INTER_CUBIC kernel (a = -0.75) on |x| in [0, 1]. */
const cubicNear = (ax: number) => ((CUBIC_A + 2) * ax - (CUBIC_A + 3)) * ax * ax + 1;
/** The same kernel on |x| in [1, 2] (0 at 2). */
const cubicFar = (ax: number) => ((CUBIC_A * ax - 5 * CUBIC_A) * ax + 8 * CUBIC_A) * ax - 4 * CUBIC_A;

/**
 * Samples the region inside `quad` (corners in reading order) into a `height`-row tensor of
 * `width` columns, starting at column 0 of a `tensorWidth`-wide CHW buffer (B, G, R planes).
 * Enlarging uses cubic interpolation (sharp strokes matter to the recogniser: bilinear
 * enlargement of small receipt print loses characters); shrinking by more than 1.5× averages a
 * small grid of bilinear samples per output pixel so thin strokes are not lost. Edges clamp.
 * With `linear`, enlarging is bilinear: a quarter of the work, enough for the direction classifier.
 */
export function sampleQuad(
  image: RgbImage,
  quad: Quad,
  width: number,
  height: number,
  norm: Normalisation,
  out: Float32Array,
  tensorWidth: number,
  { linear = false } = {},
): void {
  const [p0, p1, , p3] = quad;
  const ux = (p1.x - p0.x) / width;
  const uy = (p1.y - p0.y) / width;
  const vx = (p3.x - p0.x) / height;
  const vy = (p3.y - p0.y) / height;
  const stepU = Math.hypot(ux, uy);
  const stepV = Math.hypot(vx, vy);
  if (stepU < 1 && stepV < 1 && !linear) {
    sampleCubic(image, p0, ux, uy, vx, vy, width, height, norm, out, tensorWidth);
    return;
  }
  const nu = Math.max(1, Math.min(4, Math.round(stepU)));
  const nv = Math.max(1, Math.min(4, Math.round(stepV)));
  const { data, width: iw, height: ih } = image;
  const plane = tensorWidth * height;
  const inv = 1 / (nu * nv);
  const [sb, sg, sr] = norm.scale;
  const [ob, og, or] = norm.offset;
  const maxX = iw - 1;
  const maxY = ih - 1;
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sj = 0; sj < nv; sj++) {
        const fv = j + (sj + 0.5) / nv;
        for (let si = 0; si < nu; si++) {
          const fu = i + (si + 0.5) / nu;
          // Pixel centres sit at integer + 0.5 in quad space; image samples at integer coordinates.
          let x = p0.x + fu * ux + fv * vx - 0.5;
          let y = p0.y + fu * uy + fv * vy - 0.5;
          if (x < 0) x = 0;
          else if (x > maxX) x = maxX;
          if (y < 0) y = 0;
          else if (y > maxY) y = maxY;
          const x0 = Math.floor(x);
          const y0 = Math.floor(y);
          const x1 = x0 < maxX ? x0 + 1 : x0;
          const y1 = y0 < maxY ? y0 + 1 : y0;
          const ax = x - x0;
          const ay = y - y0;
          const i00 = (y0 * iw + x0) * 3;
          const i01 = (y0 * iw + x1) * 3;
          const i10 = (y1 * iw + x0) * 3;
          const i11 = (y1 * iw + x1) * 3;
          const w00 = (1 - ax) * (1 - ay);
          const w01 = ax * (1 - ay);
          const w10 = (1 - ax) * ay;
          const w11 = ax * ay;
          r += data[i00] * w00 + data[i01] * w01 + data[i10] * w10 + data[i11] * w11;
          g += data[i00 + 1] * w00 + data[i01 + 1] * w01 + data[i10 + 1] * w10 + data[i11 + 1] * w11;
          b += data[i00 + 2] * w00 + data[i01 + 2] * w01 + data[i10 + 2] * w10 + data[i11 + 2] * w11;
        }
      }
      const d = j * tensorWidth + i;
      out[d] = b * inv * sb + ob;
      out[plane + d] = g * inv * sg + og;
      out[2 * plane + d] = r * inv * sr + or;
    }
  }
}

function sampleCubic(
  image: RgbImage,
  p0: Point,
  ux: number,
  uy: number,
  vx: number,
  vy: number,
  width: number,
  height: number,
  norm: Normalisation,
  out: Float32Array,
  tensorWidth: number,
): void {
  const { data, width: iw, height: ih } = image;
  const plane = tensorWidth * height;
  const [sb, sg, sr] = norm.scale;
  const [ob, og, or] = norm.offset;
  const maxX = iw - 1;
  const maxY = ih - 1;
  const stride = iw * 3;
  const xs = new Int32Array(4);
  const rows = new Int32Array(4);
  for (let j = 0; j < height; j++) {
    const fv = j + 0.5;
    for (let i = 0; i < width; i++) {
      const fu = i + 0.5;
      const x = p0.x + fu * ux + fv * vx - 0.5;
      const y = p0.y + fu * uy + fv * vy - 0.5;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      // Weights of the taps at -1, 0, 1, 2 for the fractional offsets (t in [0, 1)).
      const tx = x - x0;
      const ty = y - y0;
      const w0 = cubicFar(1 + tx);
      const w1 = cubicNear(tx);
      const w2 = cubicNear(1 - tx);
      const w3 = cubicFar(2 - tx);
      const wy0 = cubicFar(1 + ty);
      const wy1 = cubicNear(ty);
      const wy2 = cubicNear(1 - ty);
      const wy3 = cubicFar(2 - ty);
      if (x0 >= 1 && x0 + 2 <= maxX && y0 >= 1 && y0 + 2 <= maxY) {
        // Inside the image: no clamping, consecutive taps.
        xs[0] = (x0 - 1) * 3;
        xs[1] = xs[0] + 3;
        xs[2] = xs[0] + 6;
        xs[3] = xs[0] + 9;
        rows[0] = (y0 - 1) * stride;
        rows[1] = rows[0] + stride;
        rows[2] = rows[1] + stride;
        rows[3] = rows[2] + stride;
      } else {
        for (let k = 0; k < 4; k++) {
          const xx = x0 - 1 + k;
          const yy = y0 - 1 + k;
          xs[k] = (xx < 0 ? 0 : xx > maxX ? maxX : xx) * 3;
          rows[k] = (yy < 0 ? 0 : yy > maxY ? maxY : yy) * stride;
        }
      }
      let r = 0;
      let g = 0;
      let b = 0;
      for (let m = 0; m < 4; m++) {
        const row = rows[m];
        const i0 = row + xs[0];
        const i1 = row + xs[1];
        const i2 = row + xs[2];
        const i3 = row + xs[3];
        const wym = m === 0 ? wy0 : m === 1 ? wy1 : m === 2 ? wy2 : wy3;
        r += (data[i0] * w0 + data[i1] * w1 + data[i2] * w2 + data[i3] * w3) * wym;
        g += (data[i0 + 1] * w0 + data[i1 + 1] * w1 + data[i2 + 1] * w2 + data[i3 + 1] * w3) * wym;
        b += (data[i0 + 2] * w0 + data[i1 + 2] * w1 + data[i2 + 2] * w2 + data[i3 + 2] * w3) * wym;
      }
      // Cubic overshoot is clamped to the pixel range.
      r = r < 0 ? 0 : r > 255 ? 255 : r;
      g = g < 0 ? 0 : g > 255 ? 255 : g;
      b = b < 0 ? 0 : b > 255 ? 255 : b;
      const d = j * tensorWidth + i;
      out[d] = b * sb + ob;
      out[plane + d] = g * sg + og;
      out[2 * plane + d] = r * sr + or;
    }
  }
}
