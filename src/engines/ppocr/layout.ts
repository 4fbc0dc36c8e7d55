/**
 * Page layout from text boxes alone (pure functions, no ONNX): which boxes form one text line,
 * which lines form a block (a column or a paragraph-like run of lines), and the order blocks are
 * read in. Boxes are axis-aligned rectangles in an upright, de-skewed page frame.
 *
 * - Lines: boxes side by side on one row are chained left to right, except across a column
 *   gutter: a gap with a clear vertical corridor above or below it, with text on both sides, where
 *   the text on both sides is made of words in long lines (prose columns) running for at least
 *   three lines. Receipt-style rows ("TOTAL ..... 9.00") are joined because their right-hand side
 *   is values, not words, or because the two sides stand together for only a row or two.
 * - Blocks: each line continues the block of the nearest line just above it that overlaps it
 *   horizontally, has a similar height and is not already continued.
 * - Order: Breuel's rules (2003) on blocks: a before b when they overlap horizontally and a is
 *   above b, or when a is entirely left of b, not wholly below it, and no block between them
 *   vertically spans both; ties go to the block that starts higher, then further left.
 */

export interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
  /** The box reads as a value (an amount, a quantity, a date: digits with at most a unit), not words. */
  value?: boolean;
}

export interface LayoutLine {
  /** Indices into the input boxes, left to right. */
  boxes: number[];
  bounds: Box;
}

export interface LayoutBlock {
  /** Lines top to bottom. */
  lines: LayoutLine[];
  bounds: Box;
}

export interface LayoutOptions {
  /** Gaps narrower than this many line heights are word spaces, never column gutters. */
  minGutter: number;
  /** How far (in line heights) a gutter's clear corridor must reach above or below the row. */
  gutterReach: number;
  /** Width/height ratio (median) above which the lines beside a gutter count as prose. */
  proseRatio: number;
  /**
   * Lines each side of a gutter must show within its reach (the row's own included): two rows
   * side by side, like a receipt's "Date … Time …" header or "TOTAL … 51.16" over "VISA … 51.16",
   * are rows of a table, read across; columns of text run longer than that.
   */
  minColumnLines: number;
  /** Largest vertical gap (in line heights) between consecutive lines of one block. */
  maxLineGap: number;
  /** Largest height ratio between consecutive lines of one block. */
  maxHeightRatio: number;
}

export const DEFAULT_LAYOUT: LayoutOptions = {
  minGutter: 0.3,
  gutterReach: 2.5,
  proseRatio: 3,
  minColumnLines: 3,
  maxLineGap: 0.8,
  maxHeightRatio: 1.6,
};

const height = (b: Box) => b.bottom - b.top;
const width = (b: Box) => b.right - b.left;

export function union(boxes: readonly Box[]): Box {
  return {
    left: Math.min(...boxes.map((b) => b.left)),
    top: Math.min(...boxes.map((b) => b.top)),
    right: Math.max(...boxes.map((b) => b.right)),
    bottom: Math.max(...boxes.map((b) => b.bottom)),
  };
}

function median(values: number[]): number {
  if (!values.length) return 0;
  const s = values.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function overlapY(a: Box, b: Box): number {
  return Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
}

function overlapX(a: Box, b: Box): number {
  return Math.min(a.right, b.right) - Math.max(a.left, b.left);
}

/** Whether two boxes sit on one text row: mostly the same vertical span and similar heights. */
export function sameRow(a: Box, b: Box, minOverlap = 0.5, maxRatio = 2): boolean {
  const ha = height(a);
  const hb = height(b);
  const lo = Math.min(ha, hb);
  if (lo <= 0 || Math.max(ha, hb) > maxRatio * lo) return false;
  return overlapY(a, b) >= minOverlap * lo;
}

/**
 * Pairs of horizontally adjacent boxes on one row: each box's nearest right-hand neighbour,
 * kept when the neighbour's nearest left-hand box is the same box (so chains never fork).
 */
export function rowNeighbours(boxes: readonly Box[], minOverlap = 0.5, maxRatio = 2): Array<[number, number]> {
  const n = boxes.length;
  const right = new Int32Array(n).fill(-1);
  const left = new Int32Array(n).fill(-1);
  const rightGap = new Float64Array(n).fill(Infinity);
  const leftGap = new Float64Array(n).fill(Infinity);
  const order = boxes.map((_, i) => i).sort((i, j) => boxes[i].left - boxes[j].left);
  for (let oi = 0; oi < n; oi++) {
    const i = order[oi];
    const a = boxes[i];
    const ca = (a.left + a.right) / 2;
    for (let oj = 0; oj < n; oj++) {
      const j = order[oj];
      if (j === i) continue;
      const b = boxes[j];
      const cb = (b.left + b.right) / 2;
      // b must lie to the right: its centre beyond a's, and overlapping a only at the ends.
      if (cb <= ca || b.right <= a.right) continue;
      if (overlapX(a, b) > 0.3 * Math.min(width(a), width(b))) continue;
      if (!sameRow(a, b, minOverlap, maxRatio)) continue;
      const gap = b.left - a.right;
      if (gap < rightGap[i]) {
        rightGap[i] = gap;
        right[i] = j;
      }
      if (gap < leftGap[j]) {
        leftGap[j] = gap;
        left[j] = i;
      }
    }
  }
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) if (right[i] >= 0 && left[right[i]] === i) pairs.push([i, right[i]]);
  return pairs;
}

/**
 * Groups of boxes that touch on one row (gap below `maxGap` line heights, near-equal heights):
 * a line the detector split inside a word, best recognised as one crop.
 */
export function touchingGroups(boxes: readonly Box[], maxGap = 0.3, maxRatio = 1.3): number[][] {
  const pairs = rowNeighbours(boxes, 0.7, maxRatio).filter(([a, b]) => {
    const h = Math.min(height(boxes[a]), height(boxes[b]));
    return boxes[b].left - boxes[a].right < maxGap * h;
  });
  return chains(boxes.length, pairs, boxes);
}

/** Follows left→right links into chains; every box appears in exactly one chain. */
function chains(n: number, pairs: ReadonlyArray<[number, number]>, boxes: readonly Box[]): number[][] {
  const next = new Int32Array(n).fill(-1);
  const hasPrev = new Uint8Array(n);
  for (const [a, b] of pairs) {
    next[a] = b;
    hasPrev[b] = 1;
  }
  const out: number[][] = [];
  const seen = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (hasPrev[i]) continue;
    const chain: number[] = [];
    for (let k = i; k >= 0 && !seen[k]; k = next[k]) {
      seen[k] = 1;
      chain.push(k);
    }
    out.push(chain);
  }
  // Links can only form simple paths, but guard against a cycle all the same.
  for (let i = 0; i < n; i++) if (!seen[i]) out.push([i]);
  return out.map((c) => c.sort((x, y) => boxes[x].left - boxes[y].left));
}

/** Whether the gap between row neighbours `a` (left) and `b` (right) is a column gutter. */
export function isGutter(boxes: readonly Box[], a: number, b: number, lineHeight: number, opts: LayoutOptions): boolean {
  const A = boxes[a];
  const B = boxes[b];
  const h = Math.max(1, Math.min(height(A), height(B), lineHeight * 1.5));
  const xl = A.right;
  const xr = B.left;
  if (xr - xl < opts.minGutter * h) return false;
  const top = Math.min(A.top, B.top);
  const bottom = Math.max(A.bottom, B.bottom);
  const reach = opts.gutterReach * h;
  const mid = (xl + xr) / 2;
  for (const [y0, y1] of [
    [top - reach, top + 0.25 * h],
    [bottom - 0.25 * h, bottom + reach],
  ] as const) {
    // The gap's free x-intervals once every box in the window is taken out of it: column
    // edges are ragged by a few pixels, so a gutter is any part of the gap left clear.
    let free: Array<[number, number]> = [[xl, xr]];
    const leftSide: Box[] = [A];
    const rightSide: Box[] = [B];
    for (let k = 0; k < boxes.length && free.length; k++) {
      if (k === a || k === b) continue;
      const c = boxes[k];
      if (c.bottom <= y0 || c.top >= y1) continue;
      if (c.right <= xl - 10 * h || c.left >= xr + 10 * h) continue;
      const cx = (c.left + c.right) / 2;
      if (c.left < mid && c.right > mid && c.left < xl && c.right > xr) {
        free = [];
        break;
      }
      (cx < mid ? leftSide : rightSide).push(c);
      free = free.flatMap(([f0, f1]): Array<[number, number]> => {
        if (c.right <= f0 || c.left >= f1) return [[f0, f1]];
        const parts: Array<[number, number]> = [];
        if (c.left > f0) parts.push([f0, c.left]);
        if (c.right < f1) parts.push([c.right, f1]);
        return parts;
      });
    }
    const clear = free.reduce((m, [f0, f1]) => Math.max(m, f1 - f0), 0);
    if (clear < 0.1 * h) continue;
    // A column of values (a receipt's amounts) belongs to the rows beside it: only words count.
    const prose = (side: Box[]) => {
      const words = side.filter((c) => !c.value);
      return words.length >= opts.minColumnLines && median(words.map((c) => width(c) / Math.max(1, height(c)))) >= opts.proseRatio;
    };
    if (prose(leftSide) && prose(rightSide)) return true;
  }
  return false;
}

/** Chains boxes into text lines, never across a column gutter. */
export function groupLines(boxes: readonly Box[], opts: LayoutOptions = DEFAULT_LAYOUT): LayoutLine[] {
  if (!boxes.length) return [];
  const lineHeight = typicalHeight(boxes);
  const pairs = rowNeighbours(boxes).filter(([a, b]) => !isGutter(boxes, a, b, lineHeight, opts));
  return chains(boxes.length, pairs, boxes).map((ids) => ({ boxes: ids, bounds: union(ids.map((i) => boxes[i])) }));
}

/** Median height of the boxes that look like horizontal text (wider than tall). */
export function typicalHeight(boxes: readonly Box[]): number {
  const wide = boxes.filter((b) => width(b) >= height(b));
  return median((wide.length ? wide : boxes).map(height));
}

/** Chains lines into blocks: each line continues the nearest suitable line just above it. */
export function groupBlocks(lines: readonly LayoutLine[], opts: LayoutOptions = DEFAULT_LAYOUT): LayoutBlock[] {
  const order = lines.map((_, i) => i).sort((i, j) => lines[i].bounds.top - lines[j].bounds.top);
  const next = new Int32Array(lines.length).fill(-1);
  const prev = new Int32Array(lines.length).fill(-1);
  for (const i of order) {
    const L = lines[i].bounds;
    const hl = height(L);
    let best = -1;
    let bestGap = Infinity;
    for (const j of order) {
      if (j === i || next[j] >= 0) continue;
      const P = lines[j].bounds;
      const hp = height(P);
      const lo = Math.min(hl, hp);
      if (P.top >= L.top) continue;
      const gap = L.top - P.bottom;
      if (gap < -0.5 * lo || gap > opts.maxLineGap * lo) continue;
      if (Math.max(hl, hp) > opts.maxHeightRatio * lo) continue;
      if (overlapX(P, L) < 0.5 * Math.min(width(P), width(L))) continue;
      // The two must not sit side by side on one row.
      if (overlapY(P, L) > 0.5 * lo) continue;
      if (gap < bestGap) {
        bestGap = gap;
        best = j;
      }
    }
    if (best >= 0) {
      next[best] = i;
      prev[i] = best;
    }
  }
  const blocks: LayoutBlock[] = [];
  for (const i of order) {
    if (prev[i] >= 0) continue;
    const blockLines: LayoutLine[] = [];
    for (let k = i; k >= 0; k = next[k]) blockLines.push(lines[k]);
    blocks.push({ lines: blockLines, bounds: union(blockLines.map((l) => l.bounds)) });
  }
  return blocks;
}

/** Orders blocks for reading (Breuel's precedence rules + topological sort). */
export function orderBlocks(blocks: readonly LayoutBlock[], lineHeight: number): LayoutBlock[] {
  const n = blocks.length;
  if (n <= 1) return blocks.slice();
  const tol = 0.5 * lineHeight;
  const b = blocks.map((k) => k.bounds);
  const xOverlaps = (p: Box, q: Box) => overlapX(p, q) > Math.min(tol, 0.1 * Math.min(width(p), width(q)));
  const before = (i: number, j: number): boolean => {
    const A = b[i];
    const B = b[j];
    if (xOverlaps(A, B)) return A.bottom <= B.top + tol;
    if (A.right > B.left + tol) return false;
    // A block wholly below B (a title or footer under the columns) does not jump ahead of it.
    if (A.top >= B.bottom - tol) return false;
    // A is left of B: it comes first unless a block between them vertically spans both.
    const upper = A.bottom <= B.top ? A : B.bottom <= A.top ? B : undefined;
    if (!upper) return true;
    const lower = upper === A ? B : A;
    for (let k = 0; k < n; k++) {
      if (k === i || k === j) continue;
      const C = b[k];
      if (C.top >= upper.bottom - tol && C.bottom <= lower.top + tol && xOverlaps(C, A) && xOverlaps(C, B)) return false;
    }
    return true;
  };
  const preds: number[][] = blocks.map(() => []);
  const indegree = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i !== j && before(i, j) && !before(j, i)) {
        preds[j].push(i);
        indegree[j]++;
      }
    }
  }
  const succ: number[][] = blocks.map(() => []);
  preds.forEach((ps, j) => ps.forEach((i) => succ[i].push(j)));
  const priority = (i: number) => b[i].top * 1e6 + b[i].left;
  const done = new Uint8Array(n);
  const out: LayoutBlock[] = [];
  while (out.length < n) {
    let pick = -1;
    for (let i = 0; i < n; i++) {
      if (done[i] || indegree[i] > 0) continue;
      if (pick < 0 || priority(i) < priority(pick)) pick = i;
    }
    if (pick < 0) {
      // A cycle (unusual layouts): take the highest remaining block.
      for (let i = 0; i < n; i++) if (!done[i] && (pick < 0 || priority(i) < priority(pick))) pick = i;
    }
    done[pick] = 1;
    out.push(blocks[pick]);
    for (const j of succ[pick]) indegree[j]--;
  }
  return out;
}

/** Lines grouped into blocks, in reading order. */
export function layoutPage(boxes: readonly Box[], opts: LayoutOptions = DEFAULT_LAYOUT): LayoutBlock[] {
  if (!boxes.length) return [];
  const lines = groupLines(boxes, opts);
  const blocks = groupBlocks(lines, opts);
  return orderBlocks(blocks, typicalHeight(boxes));
}

export interface Margins {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/**
 * Free space around each box: distance to the nearest other box on each side among those that
 * overlap it across that direction (Infinity when none). Overlapping neighbours give 0.
 */
export function freeMargins(boxes: readonly Box[]): Margins[] {
  return boxes.map((a, i) => {
    const m: Margins = { left: Infinity, right: Infinity, top: Infinity, bottom: Infinity };
    for (let j = 0; j < boxes.length; j++) {
      if (j === i) continue;
      const b = boxes[j];
      if (overlapY(a, b) > 0) {
        if (b.right <= a.right && b.left < a.left) m.left = Math.min(m.left, Math.max(0, a.left - b.right));
        if (b.left >= a.left && b.right > a.right) m.right = Math.min(m.right, Math.max(0, b.left - a.right));
      }
      if (overlapX(a, b) > 0) {
        if (b.bottom <= a.bottom && b.top < a.top) m.top = Math.min(m.top, Math.max(0, a.top - b.bottom));
        if (b.top >= a.top && b.bottom > a.bottom) m.bottom = Math.min(m.bottom, Math.max(0, b.top - a.bottom));
      }
    }
    return m;
  });
}
