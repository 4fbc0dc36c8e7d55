// The text-layer stage on its own: lines from pdf.js-shaped items (baselines, gaps, CJK, right to
// left, superscripts, rotated text), the real-text judgement, image coverage and the mode rules.
import { describe, expect, it } from "vitest";
import { buildTextLayer, effectivePdfText, imageCoverage, judgeTextLayer, type OpCodes, type TextItemLike, type ViewportLike } from "../src/pages/text-layer.js";
import { UsageError } from "../src/errors.js";

/** A 600 × 800 pt page at 72 dpi (1 pt = 1 px), y flipped as pdf.js' viewport does. */
const viewport: ViewportLike = { transform: [1, 0, 0, -1, 0, 800], scale: 1, width: 600, height: 800 };
const styles = { f: { ascent: 0.8, descent: -0.2, vertical: false } };

/** An item at (x, baseline y) in PDF coordinates (y up), `size` pt, `width` pt wide. */
function item(str: string, x: number, y: number, width: number, size = 10): TextItemLike {
  return { str, dir: "ltr", width, height: size, transform: [size, 0, 0, size, x, y], fontName: "f", hasEOL: false };
}

const build = (items: TextItemLike[]) => buildTextLayer(items, styles, viewport);

describe("lines from text items", () => {
  it("groups items by baseline, keeps stream order between lines, boxes in page pixels", () => {
    const { text, lines } = build([item("Hello", 50, 700, 25), item("world", 80, 700, 25), item("Second line", 50, 686, 55)]);
    expect(text).toBe("Hello world\nSecond line");
    // x 50..105, baseline at 800 - 700 = 100 px: ascender 8 above, descender 2 below.
    expect(lines[0]).toEqual({ text: "Hello world", bbox: [50, 92, 105, 102] });
    expect(lines[1]!.bbox).toEqual([50, 106, 105, 116]);
  });

  it("joins pieces with no gap without a space (a word split across fonts), and uses pdf.js' own space items", () => {
    const { text } = build([item("Tuyên ngôn to", 60, 700, 65), item("à", 125, 700, 5), item("n th", 130, 700, 18), item("ế", 148, 700, 5), item(" ", 153, 700, 0.3), item("gi", 156, 700, 8)]);
    expect(text).toBe("Tuyên ngôn toàn thế gi");
  });

  it("writes Chinese and Japanese without spaces unless the gap is wide", () => {
    expect(build([item("漏電遮断", 50, 700, 40), item("機構", 92, 700, 20)]).text).toBe("漏電遮断機構");
    expect(build([item("第1条", 50, 700, 30), item("定義", 150, 700, 20)]).text).toBe("第1条 定義");
    // Latin words with a gap of a third of the font size: a space.
    expect(build([item("Total", 50, 700, 25), item("due", 78.5, 700, 15)]).text).toBe("Total due");
  });

  it("keeps a superscript on its line and puts a table row's cells on one line", () => {
    const sup = { ...item("2", 75, 704, 4, 7) };
    expect(build([item("E = mc", 50, 700, 25), sup, item("follows.", 82, 700, 40)]).text).toBe("E = mc2 follows.");
    expect(build([item("Item", 50, 700, 20), item("Qty", 300, 700, 15), item("Price", 450, 700, 25)]).text).toBe("Item Qty Price");
  });

  it("a piece of an earlier line written later rejoins it", () => {
    const { text } = build([item("Dear", 50, 700, 20), item("Body text here.", 50, 680, 70), item("Sir,", 72.8, 700, 16)]);
    expect(text).toBe("Dear Sir,\nBody text here.");
  });

  it("orders a right-to-left line's pieces from the right", () => {
    // pdf.js gives each Arabic run in logical order; the line's runs are placed right to left.
    const { text } = build([item("العالمي", 200, 700, 40), item("الإعلان", 250, 700, 40)]);
    expect(text).toBe("الإعلان العالمي");
  });

  it("separates rotated text from horizontal text, with a box around the rotated run", () => {
    const vertical: TextItemLike = { str: "SIDEWAYS", width: 50, height: 10, transform: [0, 10, -10, 0, 20, 300], fontName: "f" };
    const { lines } = build([item("Body", 50, 700, 20), vertical]);
    expect(lines.map((l) => l.text)).toEqual(["Body", "SIDEWAYS"]);
    const [l, t, r, b] = lines[1]!.bbox!;
    expect(r - l).toBeLessThan(12);
    expect(b - t).toBeCloseTo(50, 0);
  });

  it("maps Kangxi radicals back to the ideographs they stand for", () => {
    expect(build([item("構を\u2F00つの箱", 50, 700, 50)]).text).toBe("構を一つの箱");
  });

  it("counts characters, unreadable ones and glyphs drawn without text", () => {
    const { stats } = build([item("Readable text", 50, 700, 60), item("\uE041\uE042\u0001", 50, 680, 15), item("", 50, 660, 100)]);
    expect(stats).toEqual({ chars: 15, unreadable: 3, alphanumeric: 12, unmappedGlyphs: 20 });
  });
});

describe("is it real text?", () => {
  const stats = (chars: number, extra: Partial<{ unreadable: number; alphanumeric: number; unmappedGlyphs: number }> = {}) => ({
    chars,
    unreadable: 0,
    alphanumeric: chars,
    unmappedGlyphs: 0,
    ...extra,
  });

  it("a page of ordinary text is used", () => {
    expect(judgeTextLayer(stats(1200))).toEqual({ use: true, thin: false, garbled: false });
  });

  it("no text, or a page number alone, is OCR'd without a fuss", () => {
    expect(judgeTextLayer(stats(0))).toMatchObject({ use: false, garbled: false });
    expect(judgeTextLayer(stats(3))).toMatchObject({ use: false, garbled: false });
  });

  it("little text is used, but flagged thin (the pages stage then looks for a page-sized image)", () => {
    expect(judgeTextLayer(stats(40))).toEqual({ use: true, thin: true, garbled: false });
  });

  it("private use, U+FFFD and control characters, glyphs without Unicode, symbol soup: garbled", () => {
    expect(judgeTextLayer(stats(500, { unreadable: 40 }))).toMatchObject({ use: false, garbled: true, reason: expect.stringContaining("unreadable") });
    expect(judgeTextLayer(stats(500, { unreadable: 10, alphanumeric: 490 }))).toMatchObject({ use: true });
    expect(judgeTextLayer(stats(0, { unmappedGlyphs: 300 }))).toMatchObject({ use: false, garbled: true, reason: expect.stringContaining("no Unicode mapping") });
    expect(judgeTextLayer(stats(500, { unmappedGlyphs: 200 }))).toMatchObject({ use: false, garbled: true });
    expect(judgeTextLayer(stats(300, { alphanumeric: 90 }))).toMatchObject({ use: false, garbled: true, reason: expect.stringContaining("letters or digits") });
  });
});

describe("image coverage", () => {
  const ops: OpCodes = { save: 10, restore: 11, transform: 12, paintFormXObjectBegin: 74, paintFormXObjectEnd: 75, paintImageXObject: 85, paintInlineImageXObject: 86, paintImageMaskXObject: 83, paintSolidColorImageMask: 90 };
  const view = [0, 0, 600, 800];

  it("a page-sized image covers the page; a logo does not", () => {
    expect(imageCoverage([10, 12, 85, 11], [null, [600, 0, 0, 800, 0, 0], ["img1"], null], view, ops)).toBe(1);
    expect(imageCoverage([10, 12, 85, 11], [null, [100, 0, 0, 50, 20, 700], ["logo"], null], view, ops)).toBeCloseTo(5000 / 480000, 5);
  });

  it("follows save/restore and form matrices, and clips to the page", () => {
    const fns = [10, 12, 11, 74, 85, 75];
    const args = [null, [0.1, 0, 0, 0.1, 0, 0], null, [[1200, 0, 0, 1600, -300, -400], [0, 0, 1, 1]], ["img"], null];
    // The scaling was restored away before the form; the form's image overhangs the page on every side.
    expect(imageCoverage(fns, args, view, ops)).toBe(1);
  });

  it("no images: 0", () => {
    expect(imageCoverage([10, 12, 11], [null, [1, 0, 0, 1, 0, 0], null], view, ops)).toBe(0);
  });
});

describe("--pdf-text modes", () => {
  it("auto reads text layers only for templates whose answer is the page's text", () => {
    expect(effectivePdfText(undefined)).toBe("auto");
    expect(effectivePdfText("auto", { output: "text" })).toBe("auto");
    expect(effectivePdfText("auto", { output: "json" })).toBe("ocr");
    expect(effectivePdfText("auto", { output: "markdown" })).toBe("ocr");
    expect(effectivePdfText("text", { output: "json" })).toBe("text");
    expect(effectivePdfText("ocr")).toBe("ocr");
    expect(() => effectivePdfText("never" as "ocr")).toThrow(UsageError);
  });
});
