/**
 * ppocr's layout on boxes alone: rows of a receipt stay whole (a label and its amount are one
 * line, however wide the gap), while prose columns are kept apart and read one after the other.
 */
import { describe, expect, it } from "vitest";
import { centredBounds, quadBounds, skewAngle, type Quad } from "../src/engines/ppocr/geometry.js";
import { layoutPage, type Box } from "../src/engines/ppocr/layout.js";

const box = (left: number, top: number, right: number, bottom = top + 28): Box => ({ left, top, right, bottom });
/** A box whose text is a value (an amount): the engine marks those from the recognised text. */
const value = (left: number, top: number, right: number): Box => ({ ...box(left, top, right), value: true });

/** `rows` rows of two boxes, [x0, x1] each, `pitch` apart from `top`; named by `name(side, row)`. */
function twoColumns(rows: number, top: number, pitch: number, left: [number, number], right: [number, number], name: (side: string, row: number) => string) {
  const boxes: Box[] = [];
  const names: string[] = [];
  for (let i = 0; i < rows; i++) {
    boxes.push(box(left[0], top + i * pitch, left[1]), box(right[0], top + i * pitch, right[1]));
    names.push(name("left", i + 1), name("right", i + 1));
  }
  return { boxes, names };
}

/** The text of each block's lines, with boxes named by their index in `names`. */
function read(boxes: Box[], names: string[]): string[][] {
  return layoutPage(boxes).map((block) => block.lines.map((line) => line.boxes.map((i) => names[i]).join(" ")));
}

describe("layout", () => {
  it("keeps a receipt's label and amount on one line, also beside a column of amounts", () => {
    const rows: Array<[string, string]> = [
      ["SUBTOTAL", "51.16"],
      ["TAX 0.00%", "0.00"],
      ["TOTAL", "51.16"],
      ["VISA **** 4821", "51.16"],
    ];
    const boxes: Box[] = [];
    const names: string[] = [];
    rows.forEach(([label, amount], i) => {
      const y = 700 + i * 38;
      boxes.push(box(42, y, 42 + label.length * 16), value(587, y, 671));
      names.push(label, amount);
    });
    boxes.push(box(42, 700 + 4 * 38, 221));
    names.push("AUTH 083145");
    expect(read(boxes, names).flat()).toEqual(["SUBTOTAL 51.16", "TAX 0.00% 0.00", "TOTAL 51.16", "VISA **** 4821 51.16", "AUTH 083145"]);
  });

  it("reads a column of words beside the labels as a column, unlike a column of amounts", () => {
    const { boxes, names } = twoColumns(4, 700, 38, [42, 250], [587, 800], (side, i) => `${side === "left" ? "label" : "words"} ${i}`);
    expect(read(boxes, names).flat()).toEqual(["label 1", "label 2", "label 3", "label 4", "words 1", "words 2", "words 3", "words 4"]);
  });

  it("reads a short two-by-two header row by row", () => {
    const boxes = [box(43, 194, 301), box(474, 191, 654), box(43, 230, 385), box(444, 230, 654)];
    const names = ["Date: 2025-03-14", "Time: 17:42", "Store 0217 Reg 03", "Cashier: DANA"];
    expect(read(boxes, names).flat()).toEqual(["Date: 2025-03-14 Time: 17:42", "Store 0217 Reg 03 Cashier: DANA"]);
  });

  it("keeps two prose columns apart and reads the left one first", () => {
    const { boxes, names } = twoColumns(8, 100, 36, [50, 850], [950, 1750], (side, i) => `${side} ${i}`);
    const blocks = read(boxes, names);
    expect(blocks.flat()).toEqual([...Array.from({ length: 8 }, (_, i) => `left ${i + 1}`), ...Array.from({ length: 8 }, (_, i) => `right ${i + 1}`)]);
  });
});

describe("layout on a curved page (a photographed receipt)", () => {
  /** A rotated rectangle: centre, size and tilt in degrees, corners in reading order. */
  const tilted = (cx: number, cy: number, w: number, h: number, deg: number): Quad => {
    const a = (deg * Math.PI) / 180;
    const [c, s] = [Math.cos(a), Math.sin(a)];
    const at = (dx: number, dy: number) => ({ x: cx + dx * c - dy * s, y: cy + dx * s + dy * c });
    return [at(-w / 2, -h / 2), at(w / 2, -h / 2), at(w / 2, h / 2), at(-w / 2, h / 2)];
  };
  // Lines 30 px apart, their (unclipped) boxes 43 px thick: the top of the paper tilts up by 3°,
  // the middle is flat, the foot tilts down, so the page's median angle is 0.
  const tilts = [-3, -3, -3, 0, 0, 0, 0, 2, 2];
  const quads = tilts.map((deg, i) => tilted(400, 300 + i * 30, 420, 43, deg));
  const names = tilts.map((_, i) => `line ${i + 1}`);

  it("reads the tilted lines in order, in one block", () => {
    expect(skewAngle(quads)).toBe(0);
    const boxes = quads.map((q) => centredBounds(q, 0, 400, 500));
    expect(read(boxes, names)).toEqual([names]);
  });

  it("would interleave them by their axis-aligned bounds, which grow with the tilt", () => {
    const boxes = quads.map((q) => quadBounds(q));
    expect(read(boxes, names).flat()).not.toEqual(names);
  });
});
