/**
 * Page-level orientation from detection boxes and the line classifier's votes (pure functions):
 * a page whose text boxes are mostly taller than wide lies on its side (90° or 270°); a page whose
 * lines the classifier mostly reads as upside down is turned 180°.
 */
import { quadSize, type Point, type Quad } from "./geometry.js";
import { rotatePoint } from "./image.js";

/** Elongation beyond which a box is clearly a horizontal or a vertical line of text. */
export const ELONGATION = 1.5;

export type Shape = "horizontal" | "vertical" | "compact";

export function boxShape(quad: Quad): Shape {
  const { width, height } = quadSize(quad);
  if (width >= ELONGATION * height) return "horizontal";
  if (height >= ELONGATION * width) return "vertical";
  return "compact";
}

/** Whether the page lies on its side: more clearly vertical lines than horizontal ones. */
export function isSideways(quads: readonly Quad[]): boolean {
  let horizontal = 0;
  let vertical = 0;
  for (const q of quads) {
    const s = boxShape(q);
    if (s === "horizontal") horizontal++;
    else if (s === "vertical") vertical++;
  }
  return vertical > horizontal;
}

/** A classifier vote: probability the crop is upside down, and how much the vote counts. */
export interface Vote {
  flipped: number;
  weight: number;
}

/** Weighted mean probability that the votes' crops are upside down (0.5 with no votes). */
export function flippedShare(votes: readonly Vote[]): number {
  let sum = 0;
  let total = 0;
  for (const v of votes) {
    sum += v.flipped * v.weight;
    total += v.weight;
  }
  return total > 0 ? sum / total : 0.5;
}

/** Share of upside-down votes above which a page is turned 180°. */
export const FLIP_PAGE_SHARE = 0.6;

/**
 * Clockwise turn that makes a sideways page upright, from votes on its vertical lines read
 * turned 90° counter-clockwise: upright votes mean the text runs top to bottom (the page was
 * turned clockwise, so turn it 270° more); upside-down votes mean it runs bottom to top (90°).
 */
export function sidewaysRotation(votes: readonly Vote[]): 90 | 270 {
  return flippedShare(votes) > 0.5 ? 90 : 270;
}

/**
 * Moves a box onto the page rotated clockwise by `degrees` (`width`/`height`: the unrotated
 * page), relabelling the corners so the first is still the box's top-left on the new page.
 */
export function rotateQuad(q: Quad, degrees: number, width: number, height: number): Quad {
  const k = ((Math.round(degrees / 90) % 4) + 4) % 4;
  const moved = q.map((p) => rotatePoint(p, degrees, width, height));
  return [0, 1, 2, 3].map((i) => moved[(i - k + 4) % 4]) as [Point, Point, Point, Point];
}
