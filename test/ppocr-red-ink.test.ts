// Red stamps over text (src/engines/ppocr/red-ink.ts): dropped out of the page before reading,
// while text printed in red is still read.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { cer } from "../scripts/lib/score.js";
import { dropRedInk, dropRedInkInTensor, hasRedInk, separateRedLines } from "../src/engines/ppocr/red-ink.js";
import { sampleQuad, SYMMETRIC } from "../src/engines/ppocr/image.js";
import type { Quad } from "../src/engines/ppocr/geometry.js";
import type { RgbImage } from "../src/types.js";
import { getEngineFactory, scan, type Engine } from "../src/index.js";
import { ROOT } from "./helpers/cli.js";

const RECEIPT = path.join(ROOT, "fixtures/samples/receipt.png");
const RED = "#d8283a";

function page(width: number, height: number, fill: [number, number, number]): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) data.set(fill, i);
  return { data, width, height };
}

function paint(image: RgbImage, left: number, top: number, right: number, bottom: number, rgb: [number, number, number]): void {
  for (let y = top; y < bottom; y++) for (let x = left; x < right; x++) image.data.set(rgb, (y * image.width + x) * 3);
}

const at = (image: RgbImage, x: number, y: number) => Array.from(image.data.subarray((y * image.width + x) * 3, (y * image.width + x) * 3 + 3));
const quad = (left: number, top: number, right: number, bottom: number): Quad => [
  { x: left, y: top },
  { x: right, y: top },
  { x: right, y: bottom },
  { x: left, y: bottom },
];

describe("red ink dropout (unit)", () => {
  it("turns red ink into paper and leaves black, blue and grey ink as they are", () => {
    const img = page(40, 10, [255, 255, 255]);
    paint(img, 0, 0, 10, 10, [216, 40, 58]); // stamp red
    paint(img, 10, 0, 20, 10, [20, 20, 20]); // black
    paint(img, 20, 0, 30, 10, [40, 50, 160]); // blue ballpoint
    paint(img, 30, 0, 40, 10, [128, 128, 128]);
    const out = dropRedInk(img);
    expect(at(out, 5, 5)).toEqual([255, 255, 255]);
    expect(at(out, 15, 5)).toEqual([20, 20, 20]);
    expect(at(out, 25, 5)).toEqual([40, 50, 160]);
    expect(at(out, 35, 5)).toEqual([128, 128, 128]);
    // The input is not touched.
    expect(at(img, 5, 5)).toEqual([216, 40, 58]);
  });

  it("tells a page with a stamp from one without (a warm paper tint is not red ink)", () => {
    const warm = page(200, 200, [235, 222, 200]);
    paint(warm, 20, 20, 180, 30, [30, 25, 20]);
    expect(hasRedInk(warm)).toBe(false);
    const stamped = page(200, 200, [235, 222, 200]);
    paint(stamped, 50, 50, 150, 56, [210, 45, 50]);
    expect(hasRedInk(stamped)).toBe(true);
  });

  it("does the same to a crop already sampled into the recogniser's tensor", () => {
    const img = page(40, 10, [255, 255, 255]);
    paint(img, 0, 0, 10, 10, [216, 40, 58]);
    paint(img, 10, 0, 20, 10, [20, 20, 20]);
    paint(img, 20, 0, 30, 10, [40, 50, 160]);
    const q = quad(0, 0, 40, 10);
    const sampled = (source: RgbImage) => {
      const t = new Float32Array(3 * 10 * 48);
      sampleQuad(source, q, 40, 10, SYMMETRIC, t, 48);
      return t;
    };
    const inTensor = sampled(img);
    // Columns past the crop's width are padding: red-looking values there must stay as they are.
    for (let j = 0; j < 10; j++) for (let x = 40; x < 48; x++) [0, 1, 2].forEach((c) => (inTensor[c * 480 + j * 48 + x] = c === 2 ? 0.8 : -0.8));
    dropRedInkInTensor(inTensor, 40, 10, 48, SYMMETRIC);
    const fromPage = sampled(dropRedInk(img));
    for (const x of [5, 15, 25, 35]) {
      for (let c = 0; c < 3; c++) expect(inTensor[c * 480 + 5 * 48 + x]).toBeCloseTo(fromPage[c * 480 + 5 * 48 + x], 4);
    }
    expect(inTensor[5 * 48 + 45]).toBeCloseTo(-0.8, 6);
    expect(inTensor[2 * 480 + 5 * 48 + 45]).toBeCloseTo(0.8, 6);
  });

  it("reads lines a stamp reaches with dropout, other lines as they are, and keeps lines printed in red", () => {
    const original = page(400, 140, [255, 255, 255]);
    paint(original, 10, 10, 200, 30, [200, 30, 40]); // a line printed in red
    paint(original, 10, 60, 200, 80, [20, 20, 20]); // a black line a stamp stroke crosses
    paint(original, 100, 50, 106, 90, [210, 40, 50]);
    paint(original, 10, 110, 200, 130, [20, 20, 20]); // a black line no red reaches
    paint(original, 220, 110, 390, 130, [200, 30, 40]); // red text on the same line, beside the black
    const redLine = quad(10, 10, 200, 30);
    const stamped = quad(10, 60, 200, 80);
    const black = quad(10, 110, 200, 130);
    const mixed = quad(10, 110, 390, 130); // the original's detector saw the last line whole
    const ghost = quad(300, 60, 390, 80); // found on the original only, with no red in it
    const lines = separateRedLines(original, [redLine, stamped, mixed, ghost], [stamped, black]);
    expect(lines.dropout).toEqual([stamped]);
    // The black half of the mixed line is read with its red half, once, not as a line of its own too.
    expect(lines.red).toEqual([redLine, mixed]);
    expect(lines.plain).toEqual([]);
    // With no red text beside it, the black line is read as it is, and alone.
    const plainOnly = separateRedLines(original, [stamped, black], [stamped, black]);
    expect(plainOnly).toEqual({ dropout: [stamped], plain: [black], red: [] });
  });
});

/** The shipped receipt with its header printed in red and a red PAID stamp across eight item lines. */
async function stampedReceipt(file: string): Promise<void> {
  const { data, info } = await sharp(RECEIPT).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  for (let y = 40; y < 78; y++) {
    for (let x = 0; x < info.width; x++) {
      const i = (y * info.width + x) * 3;
      const v = Math.min(data[i], data[i + 1], data[i + 2]);
      data[i] = 255 - Math.round((255 - v) * 0.2);
      data[i + 1] = v;
      data[i + 2] = v;
    }
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${info.width}" height="${info.height}">
<g fill="none" stroke="${RED}" stroke-width="7" stroke-linejoin="round">
<ellipse cx="380" cy="560" rx="250" ry="110" transform="rotate(-12 380 560)"/>
<path d="M200 640 L200 500 L250 500 Q290 520 250 560 L200 560"/>
<path d="M300 640 L340 490 L380 640 M315 590 L365 590"/>
<path d="M430 480 L430 630"/>
<path d="M480 470 L480 620 Q570 600 540 520 Q520 470 480 470"/>
</g></svg>`;
  await sharp(data, { raw: info }).composite([{ input: Buffer.from(svg), blend: "multiply" }]).png().toFile(file);
}

describe("a red stamp over a receipt (ppocr end to end)", () => {
  let dir: string;
  let file: string;
  let engine: Engine;
  let plain: Engine;
  const read = async (e: Engine) => {
    const texts: string[] = [];
    for await (const r of scan([file], { engine: e, cache: false })) texts.push(r.text);
    return texts.join("\n");
  };
  const truth = () => readFileSync(path.join(ROOT, "fixtures/samples/receipt.txt"), "utf8").replace(/^-+$/gm, "");

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "qocr-red-"));
    file = path.join(dir, "stamped.png");
    await stampedReceipt(file);
    const factory = await getEngineFactory("ppocr");
    engine = await factory.load({});
    plain = await factory.load({ dropRed: false });
  }, 60_000);
  afterAll(async () => {
    await Promise.all([engine?.close(), plain?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads the lines under the stamp, and the header printed in red", async () => {
    const text = await read(engine);
    for (const price of ["3.99", "3.49", "2.19", "8.99", "10.49", "5.00"]) expect(text).toContain(price);
    expect(text).toMatch(/Olive Oil 500 ml 8\.99/i);
    expect(text).toMatch(/Dark Chocolate Bar 2 @ 2\.50 5\.00/);
    expect(text).toContain("GREENLEAF MARKET");
    // Without the dropout the same engine reads the stamped lines much worse.
    const withoutDropout = cer(await read(plain), truth()).cer;
    const withDropout = cer(text, truth()).cer;
    expect(withDropout).toBeLessThan(0.07);
    expect(withoutDropout).toBeGreaterThan(withDropout * 2);
  }, 60_000);
});
