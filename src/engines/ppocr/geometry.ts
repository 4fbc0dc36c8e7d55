/**
 * Small plane-geometry helpers for text boxes: points, quadrilaterals, convex hulls and the
 * minimum-area rotated rectangle (what OpenCV's `minAreaRect` gives PaddleOCR).
 */

export interface Point {
  x: number;
  y: number;
}

/**
 * A text box as four corners in reading order: top-left, top-right, bottom-right, bottom-left
 * (as the text reads, which is not necessarily the page's up when the text is rotated).
 */
export type Quad = [Point, Point, Point, Point];

export function distance(a: Point, b: Point): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

/** Convex hull (Andrew's monotone chain), counter-clockwise in y-down coordinates; no collinear points. */
export function convexHull(points: readonly Point[]): Point[] {
  if (points.length < 3) return points.slice();
  const sorted = points.slice().sort((a, b) => a.x - b.x || a.y - b.y);
  const cross = (o: Point, a: Point, b: Point) => (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
  const lower: Point[] = [];
  for (const p of sorted) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = sorted.length - 1; i >= 0; i--) {
    const p = sorted[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

/** A rotated rectangle: centre, side lengths and the unit vector along `width`. */
export interface RotatedRect {
  cx: number;
  cy: number;
  width: number;
  height: number;
  /** Unit direction of the `width` side. */
  ux: number;
  uy: number;
}

/** Minimum-area enclosing rectangle of a point set (rotating calipers over the convex hull). */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0) return { cx: 0, cy: 0, width: 0, height: 0, ux: 1, uy: 0 };
  if (hull.length === 1) return { cx: hull[0].x, cy: hull[0].y, width: 0, height: 0, ux: 1, uy: 0 };
  let best: RotatedRect | undefined;
  let bestArea = Infinity;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i];
    const b = hull[(i + 1) % hull.length];
    const len = distance(a, b);
    if (len === 0) continue;
    const ux = (b.x - a.x) / len;
    const uy = (b.y - a.y) / len;
    let minU = Infinity;
    let maxU = -Infinity;
    let minV = Infinity;
    let maxV = -Infinity;
    for (const p of hull) {
      const u = p.x * ux + p.y * uy;
      const v = -p.x * uy + p.y * ux;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    const area = (maxU - minU) * (maxV - minV);
    if (area < bestArea - 1e-9) {
      bestArea = area;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = { cx: cu * ux - cv * uy, cy: cu * uy + cv * ux, width: maxU - minU, height: maxV - minV, ux, uy };
    }
  }
  // Prefer the orientation whose width side is closest to horizontal, so that boxes of
  // horizontal text come out as wide rectangles with a small angle.
  const rect = best ?? { cx: hull[0].x, cy: hull[0].y, width: 0, height: 0, ux: 1, uy: 0 };
  return normaliseRect(rect);
}

/** Rotates the rectangle's frame by multiples of 90° so its width axis is within ±45° of +x. */
export function normaliseRect(r: RotatedRect): RotatedRect {
  let { width, height, ux, uy } = r;
  // Bring the direction into the half-plane ux >= 0 first.
  if (ux < 0 || (ux === 0 && uy < 0)) {
    ux = -ux;
    uy = -uy;
  }
  if (Math.abs(uy) > Math.abs(ux)) {
    // Swap axes: the perpendicular (-uy, ux) or (uy, -ux) becomes the width direction.
    [width, height] = [height, width];
    const nx = uy > 0 ? uy : -uy;
    const ny = uy > 0 ? -ux : ux;
    ux = nx;
    uy = ny;
  }
  return { cx: r.cx, cy: r.cy, width, height, ux, uy };
}

/** The four corners of a rotated rectangle: top-left, top-right, bottom-right, bottom-left (y down). */
export function rectCorners(r: RotatedRect): Quad {
  const hw = r.width / 2;
  const hh = r.height / 2;
  // v axis is the width axis turned 90° clockwise on screen (pointing "down" for horizontal text).
  const vx = -r.uy;
  const vy = r.ux;
  const at = (su: number, sv: number): Point => ({
    x: r.cx + su * hw * r.ux + sv * hh * vx,
    y: r.cy + su * hw * r.uy + sv * hh * vy,
  });
  return [at(-1, -1), at(1, -1), at(1, 1), at(-1, 1)];
}

/** Axis-aligned bounds of a quad. */
export function quadBounds(q: Quad): { left: number; top: number; right: number; bottom: number } {
  const xs = q.map((p) => p.x);
  const ys = q.map((p) => p.y);
  return { left: Math.min(...xs), top: Math.min(...ys), right: Math.max(...xs), bottom: Math.max(...ys) };
}

/** Width (top edge / bottom edge, the longer) and height (left / right edge, the longer) of a quad. */
export function quadSize(q: Quad): { width: number; height: number } {
  return {
    width: Math.max(distance(q[0], q[1]), distance(q[3], q[2])),
    height: Math.max(distance(q[0], q[3]), distance(q[1], q[2])),
  };
}

/** Re-labels the corners so the text is read turned 90° counter-clockwise (for vertical boxes). */
export function turnQuad(q: Quad, quarterTurns: number): Quad {
  const k = ((quarterTurns % 4) + 4) % 4;
  // Corner i of the result is corner (i + k) of the input: k = 1 makes the old top-right the
  // new top-left, i.e. the crop is read rotated 90° counter-clockwise; k = 2 reads it upside down.
  return [q[k % 4], q[(k + 1) % 4], q[(k + 2) % 4], q[(k + 3) % 4]];
}

/**
 * Dominant skew of a page, in radians, from the direction of its long horizontal boxes
 * (median of their top edges' angles); 0 when there are none.
 */
export function skewAngle(quads: readonly Quad[]): number {
  const angles: number[] = [];
  for (const q of quads) {
    const { width, height } = quadSize(q);
    if (width < 2 * height) continue;
    const a = Math.atan2(q[1].y - q[0].y, q[1].x - q[0].x);
    if (Math.abs(a) < Math.PI / 4) angles.push(a);
  }
  if (!angles.length) return 0;
  angles.sort((a, b) => a - b);
  return angles[angles.length >> 1];
}

/**
 * Grows a quad outward along its own axes: `left`/`right` pixels before and after the text,
 * `top`/`bottom` pixels above and below it (rotated boxes stay rotated).
 */
export function padQuad(q: Quad, pad: { left: number; right: number; top: number; bottom: number }): Quad {
  const lu = distance(q[0], q[1]);
  const lv = distance(q[0], q[3]);
  if (lu <= 0 || lv <= 0) return q;
  const ux = (q[1].x - q[0].x) / lu;
  const uy = (q[1].y - q[0].y) / lu;
  const vx = (q[3].x - q[0].x) / lv;
  const vy = (q[3].y - q[0].y) / lv;
  const move = (p: Point, du: number, dv: number): Point => ({ x: p.x + du * ux + dv * vx, y: p.y + du * uy + dv * vy });
  return [
    move(q[0], -pad.left, -pad.top),
    move(q[1], pad.right, -pad.top),
    move(q[2], pad.right, pad.bottom),
    move(q[3], -pad.left, pad.bottom),
  ];
}

/**
 * A box in the page frame de-skewed by `angle` (about cx, cy), as an upright rectangle of the
 * box's own size at its de-skewed centre. On a curved or unevenly tilted page, like a photographed
 * receipt, one angle cannot straighten every line: the axis-aligned bounds of a line still tilted
 * by a few degrees grow by its width × tan(tilt), and long lines then overlap the lines above and
 * below. Its own size does not grow.
 */
export function centredBounds(
  q: Quad,
  angle: number,
  cx: number,
  cy: number,
): { left: number; top: number; right: number; bottom: number } {
  const mx = (q[0].x + q[1].x + q[2].x + q[3].x) / 4;
  const my = (q[0].y + q[1].y + q[2].y + q[3].y) / 4;
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const dx = mx - cx;
  const dy = my - cy;
  const x = cx + dx * c + dy * s;
  const y = cy - dx * s + dy * c;
  const { width, height } = quadSize(q);
  return { left: x - width / 2, top: y - height / 2, right: x + width / 2, bottom: y + height / 2 };
}
