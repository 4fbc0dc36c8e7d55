/**
 * ppocr's layout on boxes alone: rows of a receipt stay whole (a label and its amount are one
 * line, however wide the gap), while prose columns are kept apart and read one after the other.
 */
import { describe, expect, it } from "vitest";
import { layoutPage, type Box } from "../src/engines/ppocr/layout.js";

const box = (left: number, top: number, right: number, bottom = top + 28): Box => ({ left, top, right, bottom });
/** A box whose text is a value (an amount): the engine marks those from the recognised text. */
const value = (left: number, top: number, right: number): Box => ({ ...box(left, top, right), value: true });

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
    const boxes: Box[] = [];
    const names: string[] = [];
    for (let i = 0; i < 4; i++) {
      const y = 700 + i * 38;
      boxes.push(box(42, y, 250), box(587, y, 800));
      names.push(`label ${i + 1}`, `words ${i + 1}`);
    }
    expect(read(boxes, names).flat()).toEqual(["label 1", "label 2", "label 3", "label 4", "words 1", "words 2", "words 3", "words 4"]);
  });

  it("reads a short two-by-two header row by row", () => {
    const boxes = [box(43, 194, 301), box(474, 191, 654), box(43, 230, 385), box(444, 230, 654)];
    const names = ["Date: 2025-03-14", "Time: 17:42", "Store 0217 Reg 03", "Cashier: DANA"];
    expect(read(boxes, names).flat()).toEqual(["Date: 2025-03-14 Time: 17:42", "Store 0217 Reg 03 Cashier: DANA"]);
  });

  it("keeps two prose columns apart and reads the left one first", () => {
    const boxes: Box[] = [];
    const names: string[] = [];
    for (let i = 0; i < 8; i++) {
      const y = 100 + i * 36;
      boxes.push(box(50, y, 850), box(950, y, 1750));
      names.push(`left ${i + 1}`, `right ${i + 1}`);
    }
    const blocks = read(boxes, names);
    expect(blocks.flat()).toEqual([...Array.from({ length: 8 }, (_, i) => `left ${i + 1}`), ...Array.from({ length: 8 }, (_, i) => `right ${i + 1}`)]);
  });
});
