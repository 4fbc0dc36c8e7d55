import { readFile, readdir, symlink } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "../src/errors.js";
import { resolveInputs } from "../src/inputs/index.js";
import {
  DEFAULT_DPI,
  DEFAULT_MAX_PIXELS,
  formatPageSelection,
  isPageFailure,
  openSource,
  parsePageSelection,
  selectedPages,
  type OpenOptions,
  type PageFailure,
} from "../src/pages/index.js";
import { pdfjsOptions } from "../src/pages/pdf.js";
import type { Page } from "../src/types.js";
import {
  CARD,
  CARD_COLOURS,
  ROOT,
  SAMPLES,
  groundTruth,
  makeFixtures,
  near,
  pixelAt,
  removeFixtures,
  type Fixtures,
} from "./fixtures.js";

let fx: Fixtures;
beforeAll(async () => {
  fx = await makeFixtures();
});
afterAll(async () => {
  if (fx) await removeFixtures(fx);
});

/** Opens a file and collects its pages (and failures). */
async function readAll(file: string, opts: OpenOptions = {}) {
  const opened = await openSource({ name: path.basename(file), path: file }, opts);
  const items: Array<Page | PageFailure> = [];
  try {
    for await (const item of opened.pages()) items.push(item);
  } finally {
    await opened.close();
  }
  return { opened, items, pages: items.filter((i): i is Page => !isPageFailure(i)) };
}

async function onlyPage(file: string, opts: OpenOptions = {}): Promise<Page> {
  const { items } = await readAll(file, opts);
  expect(items).toHaveLength(1);
  const page = items[0]!;
  if (isPageFailure(page)) throw page.error;
  return page;
}

function expectRgb(page: Page) {
  expect(page.image.data).toBeInstanceOf(Uint8Array);
  expect(page.image.data.length).toBe(page.image.width * page.image.height * 3);
}

/** The card's quadrant centres must have the card's colours: proves orientation and colour. */
function expectCard(page: Page, tolerance = 24) {
  expectRgb(page);
  expect([page.image.width, page.image.height]).toEqual([CARD.width, CARD.height]);
  const at = (x: number, y: number) => pixelAt(page.image, x, y);
  expect(near(at(15, 10), CARD_COLOURS.topLeft, tolerance), `top-left ${at(15, 10)}`).toBe(true);
  expect(near(at(45, 10), CARD_COLOURS.topRight, tolerance), `top-right ${at(45, 10)}`).toBe(true);
  expect(near(at(15, 30), CARD_COLOURS.bottomLeft, tolerance), `bottom-left ${at(15, 30)}`).toBe(true);
  expect(near(at(45, 30), CARD_COLOURS.bottomRight, tolerance), `bottom-right ${at(45, 30)}`).toBe(true);
}

async function rejectsWith(file: string, code: string, message?: RegExp) {
  const err = await openSource({ name: "x", path: file }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `${path.basename(file)} should fail with ${code}`).toMatchObject({ name: "OcrError", code });
  if (message) expect((err as Error).message).toMatch(message);
}

describe("parsePageSelection", () => {
  it("parses pages, ranges and open-ended ranges", () => {
    expect(parsePageSelection("1-3,7,10-")).toEqual([{ from: 1, to: 3 }, { from: 7, to: 7 }, { from: 10 }]);
    expect(parsePageSelection(" 2 , 4 - 5 ")).toEqual([{ from: 2, to: 2 }, { from: 4, to: 5 }]);
    expect(parsePageSelection("-3")).toEqual([{ from: 1, to: 3 }]);
    expect(formatPageSelection(parsePageSelection("1-3, 7,10-"))).toBe("1-3,7,10-");
  });

  it("rejects bad specs with a UsageError", () => {
    for (const bad of ["", " ", "0", "3-1", "a", "1,,2", "1-2-3", "-", "1.5", "2-x", "-0", ","]) {
      expect(() => parsePageSelection(bad), JSON.stringify(bad)).toThrow(UsageError);
    }
    expect(() => parsePageSelection("5-2")).toThrow(/invalid page selection "5-2"/);
  });

  it("selects pages in document order, without repeats, dropping pages past the end", () => {
    expect(selectedPages(parsePageSelection("7,1-3,2,10-"), 12)).toEqual([1, 2, 3, 7, 10, 11, 12]);
    expect(selectedPages(parsePageSelection("5-"), 3)).toEqual([]);
    expect(selectedPages(undefined, 3)).toEqual([1, 2, 3]);
  });
});

describe("images", () => {
  it("decodes the samples to RGB at their own size", async () => {
    const receipt = await onlyPage(fx.receipt);
    expectRgb(receipt);
    expect([receipt.image.width, receipt.image.height]).toEqual([728, 1115]);
    expect(receipt).toMatchObject({ source: "receipt.png", page: 1, pages: 1, warnings: [] });
    expect(receipt.rasterizeMs).toBeGreaterThan(0);
    expect(pixelAt(receipt.image, 2, 2)).toEqual([255, 255, 255]);
    const menu = await onlyPage(fx.menu);
    expect([menu.image.width, menu.image.height]).toEqual([735, 1548]);
  });

  it("has fixtures that are what they claim to be", async () => {
    const sharp = (await import("sharp")).default;
    const meta = (file: string) => sharp(file).metadata();
    expect((await meta(fx.exif6)).orientation).toBe(6);
    expect((await meta(fx.exif3)).orientation).toBe(3);
    expect((await meta(fx.exif8)).orientation).toBe(8);
    expect((await meta(fx.cmyk)).space).toBe("cmyk");
    expect((await meta(fx.png16)).depth).toBe("ushort");
    expect((await meta(fx.gray)).channels).toBe(1);
    expect((await meta(fx.palette)).isPalette).toBe(true);
    expect((await meta(fx.rgba)).hasAlpha).toBe(true);
    expect((await meta(fx.animatedGif)).pages).toBe(3);
    expect((await meta(fx.multipageTiff)).pages).toBe(3);
  });

  it("applies EXIF orientation (6, 3, 8) so the page comes out upright", async () => {
    for (const file of [fx.exif6, fx.exif3, fx.exif8]) expectCard(await onlyPage(file), 40);
  });

  it("flattens transparency onto white", async () => {
    const page = await onlyPage(fx.rgba);
    expectRgb(page);
    expect(pixelAt(page.image, 10, 10)).toEqual([0, 0, 0]); // opaque black
    expect(pixelAt(page.image, 30, 5)).toEqual([255, 255, 255]); // transparent green
    expect(near(pixelAt(page.image, 50, 30), [255, 127, 127], 3)).toBe(true); // half-transparent red
  });

  it("converts CMYK to sRGB, not inverted", async () => {
    // Pure green is outside the CMYK gamut, so the card cannot survive the round trip exactly:
    // check each quadrant's dominant colour instead.
    const page = await onlyPage(fx.cmyk);
    expectRgb(page);
    expect([page.image.width, page.image.height]).toEqual([CARD.width, CARD.height]);
    const [tl, tr, bl, br] = [pixelAt(page.image, 15, 10), pixelAt(page.image, 45, 10), pixelAt(page.image, 15, 30), pixelAt(page.image, 45, 30)];
    expect(tl[0] > 180 && tl[1] < 80 && tl[2] < 80, `red ${tl}`).toBe(true);
    expect(tr[1] > 150 && tr[2] < 80, `green ${tr}`).toBe(true);
    expect(bl[2] > bl[0] + 60 && bl[2] > bl[1] + 60, `blue ${bl}`).toBe(true);
    expect(Math.min(...br) > 235, `white ${br}`).toBe(true);
  });

  it("converts 16-bit, palette, BMP, WebP, AVIF and GIF to 8-bit sRGB", async () => {
    for (const [file, mime] of [
      [fx.card, "image/png"],
      [fx.png16, "image/png"],
      [fx.palette, "image/png"],
      [fx.bmp, "image/bmp"],
      [fx.webp, "image/webp"],
      [fx.avif, "image/avif"],
      [fx.gif, "image/gif"],
    ] as const) {
      const { opened, pages } = await readAll(file);
      expect(opened.mime, file).toBe(mime);
      expect(opened.kind).toBe("image");
      expectCard(pages[0]!);
    }
  });

  it("turns grayscale into RGB with equal channels", async () => {
    const page = await onlyPage(fx.gray);
    expectRgb(page);
    const [r, g, b] = pixelAt(page.image, 15, 10);
    expect(r).toBe(g);
    expect(g).toBe(b);
    expect(pixelAt(page.image, 45, 30)).toEqual([255, 255, 255]);
  });

  it("reports the image's own resolution when it declares one", async () => {
    expect((await onlyPage(fx.dpi300)).dpi).toBe(300);
    expect((await onlyPage(fx.bmp)).dpi).toBe(150);
    expect((await onlyPage(fx.card)).dpi).toBeUndefined();
  });

  it("reads the first frame of an animated GIF, with a warning", async () => {
    const { opened, pages } = await readAll(fx.animatedGif);
    expect(opened.pageCount).toBe(1);
    expectCard(pages[0]!);
    expect(pages[0]!.warnings.join()).toMatch(/3 frames: only the first/);
  });

  it("reads every page of a multi-page TIFF, each at its own size", async () => {
    const { opened, pages } = await readAll(fx.multipageTiff);
    expect(opened).toMatchObject({ kind: "image", mime: "image/tiff", pageCount: 3 });
    expect(pages.map((p) => [p.page, p.pages, p.image.width, p.image.height, p.dpi])).toEqual([
      [1, 3, 364, 558, 200],
      [2, 3, 245, 516, 200],
      [3, 3, 60, 40, 200],
    ]);
    for (const p of pages) expectRgb(p);
    expectCard(pages[2]!);
  });

  it("applies the page selection to a multi-page TIFF", async () => {
    const { pages } = await readAll(fx.multipageTiff, { pages: parsePageSelection("2-") });
    expect(pages.map((p) => [p.page, p.pages])).toEqual([
      [2, 3],
      [3, 3],
    ]);
    const none = await readAll(fx.multipageTiff, { pages: parsePageSelection("4-") });
    expect(none.opened.pageCount).toBe(3);
    expect(none.items).toEqual([]);
    const single = await readAll(fx.card, { pages: parsePageSelection("2") });
    expect(single.items).toEqual([]);
  });

  it("fails one broken TIFF page with render_failed and goes on", async () => {
    const { items } = await readAll(fx.brokenPageTiff);
    expect(items.map((i) => (isPageFailure(i) ? `${i.page}:${i.error.code}` : `${i.page}:ok`))).toEqual([
      "1:ok",
      "2:render_failed",
      "3:ok",
    ]);
    const failure = items[1] as PageFailure;
    expect(failure.pages).toBe(3);
    expect(failure.error.message).not.toContain(fx.dir); // the source name is printed by the caller
  });

  it("scales an image above the pixel cap down to it, with a warning", async () => {
    const page = await onlyPage(fx.receipt, { maxPixels: 100_000 });
    expectRgb(page);
    expect(page.image.width * page.image.height).toBeLessThanOrEqual(100_000);
    expect(page.image.width * page.image.height).toBeGreaterThan(95_000);
    expect(Math.abs(page.image.width / page.image.height - 728 / 1115)).toBeLessThan(0.01);
    expect(page.warnings.join()).toMatch(/scaled down from 728x1115 .* 0\.1 MP pixel cap/);
  });

  it("reads an image from stdin", async () => {
    const bytes = await readFile(fx.exif6);
    const { sources } = await resolveInputs(["-"], { stdin: Readable.from([bytes]) });
    const opened = await openSource(sources[0]!);
    expect(opened.source).toBe("-");
    const pages: Page[] = [];
    for await (const p of opened.pages()) if (!isPageFailure(p)) pages.push(p);
    expect(pages[0]!.source).toBe("-");
    expectCard(pages[0]!, 40);
  });

  it("fails whole inputs with the right codes", async () => {
    await rejectsWith(fx.empty, "empty", /0 bytes/);
    await rejectsWith(fx.textAsPng, "unsupported", /^not an image or PDF \(detected: text\/plain\)$/);
    await rejectsWith(fx.svg, "unsupported", /image\/svg\+xml/);
    await rejectsWith(fx.truncatedPng, "corrupt");
    await rejectsWith(fx.truncatedJpeg, "corrupt");
    await rejectsWith(fx.hugeHeaderPng, "too_large");
    await rejectsWith(path.join(fx.dir, "missing.png"), "not_found", /^no such file$/);
    await rejectsWith(fx.dir, "unreadable", /directory/);
    const empty = await resolveInputs(["-"], { stdin: Readable.from([]) });
    await expect(openSource(empty.sources[0]!)).rejects.toMatchObject({ code: "empty" });
  });
});

describe("PDFs", () => {
  const a4 = (dpi: number) => [Math.round((595 * dpi) / 72), Math.round((842 * dpi) / 72)];

  it("renders page by page at the requested DPI onto white", async () => {
    const { opened, pages } = await readAll(fx.letter, { dpi: 100 });
    expect(opened).toMatchObject({ kind: "pdf", mime: "application/pdf", pageCount: 2, source: "letter.pdf" });
    expect(pages.map((p) => [p.page, p.pages, p.image.width, p.image.height, p.dpi])).toEqual([
      [1, 2, ...a4(100), 100],
      [2, 2, ...a4(100), 100],
    ]);
    for (const p of pages) {
      expectRgb(p);
      expect(p.warnings).toEqual([]);
      expect(p.rasterizeMs).toBeGreaterThan(0);
      expect(pixelAt(p.image, 0, 0)).toEqual([255, 255, 255]);
      expect(pixelAt(p.image, p.image.width - 1, p.image.height - 1)).toEqual([255, 255, 255]);
      expect(inkRatio(p)).toBeGreaterThan(0.005); // there is text on it
    }
  });

  it(`defaults to ${DEFAULT_DPI} dpi and a ${DEFAULT_MAX_PIXELS / 1e6} MP cap`, async () => {
    expect(DEFAULT_DPI).toBe(200);
    expect(DEFAULT_MAX_PIXELS).toBe(40e6);
    const page = await onlyPage(fx.letter, { pages: parsePageSelection("1") });
    expect([page.image.width, page.image.height, page.dpi]).toEqual([...a4(200), 200]);
    const big = await onlyPage(fx.bigPagePdf, { dpi: 72 }); // 2000 x 3000 pt
    expect([big.image.width, big.image.height, big.warnings]).toEqual([2000, 3000, []]);
  });

  it("renders only the selected pages", async () => {
    const { pages } = await readAll(fx.letter, { dpi: 50, pages: parsePageSelection("2-") });
    expect(pages.map((p) => [p.page, p.pages])).toEqual([[2, 2]]);
    const none = await readAll(fx.letter, { dpi: 50, pages: parsePageSelection("3-") });
    expect(none.opened.pageCount).toBe(2);
    expect(none.items).toEqual([]);
  });

  it("lowers the DPI to stay under the pixel cap, with a warning", async () => {
    const page = await onlyPage(fx.letter, { dpi: 200, maxPixels: 1_000_000, pages: parsePageSelection("1") });
    expect(page.dpi).toBe(101); // floor(72 * sqrt(1e6 / (595 * 842))) = floor(101.7)
    expect(page.image.width * page.image.height).toBeLessThanOrEqual(1_000_000);
    expect([page.image.width, page.image.height]).toEqual(a4(101));
    expect(page.warnings).toEqual([
      "rendered at 101 dpi instead of 200: 1653x2339 px would exceed the 1 MP pixel cap (now 835x1181)",
    ]);
  });

  it("lowers the DPI for a page whose long side would exceed the canvas limit", async () => {
    const page = await onlyPage(fx.tallPagePdf, { dpi: 200 }); // 20 x 20000 pt
    expect(page.dpi).toBe(117);
    expect(page.image.height).toBeLessThanOrEqual(32767);
    expect(page.warnings.join()).toMatch(/32767 px side limit/);
  });

  it("fails encrypted, truncated and empty files as whole inputs", async () => {
    await rejectsWith(fx.encryptedPdf, "encrypted", /password/);
    await rejectsWith(fx.truncatedPdf, "corrupt");
  });

  it("yields render_failed for a broken page and renders the others", async () => {
    const { opened, items } = await readAll(fx.brokenPagePdf, { dpi: 50 });
    expect(opened.pageCount).toBe(3);
    expect(items.map((i) => (isPageFailure(i) ? `${i.page}:${i.error.code}` : `${i.page}:ok`))).toEqual([
      "1:ok",
      "2:ok",
      "3:render_failed",
    ]);
    expect((items[2] as PageFailure).error.message).toMatch(/^cannot render page 3: /);
  });

  it("reads a PDF from stdin and through a symlink", async () => {
    const bytes = await readFile(fx.threePagePdf);
    const { sources } = await resolveInputs(["-"], { stdin: Readable.from([bytes]) });
    const opened = await openSource(sources[0]!, { dpi: 50 });
    expect(opened.pageCount).toBe(3);
    let n = 0;
    for await (const p of opened.pages()) if (!isPageFailure(p)) n++;
    expect(n).toBe(3);
    await opened.close();

    const link = path.join(fx.dir, "link.pdf");
    await symlink(fx.letter, link);
    const { pages } = await readAll(link, { dpi: 50 });
    expect(pages).toHaveLength(2);
  });

  it("honours /Rotate", async () => {
    const page = await onlyPage(fx.rotatedPdf, { dpi: 72 });
    expect([page.image.width, page.image.height]).toEqual([200, 300]);
  });

  it("stops at an abort signal, also in the middle of a page", async () => {
    const ac = new AbortController();
    const opened = await openSource({ name: "three", path: fx.threePagePdf }, { dpi: 50, signal: ac.signal });
    const got: unknown[] = [];
    for await (const p of opened.pages()) {
      got.push(p);
      ac.abort();
    }
    expect(got).toHaveLength(1);
    await opened.close();

    const ac2 = new AbortController();
    const opened2 = await openSource({ name: "letter", path: fx.letter }, { dpi: 300, signal: ac2.signal });
    const iterator = opened2.pages()[Symbol.asyncIterator]();
    const first = iterator.next();
    setTimeout(() => ac2.abort(), 5);
    expect((await first).done).toBe(true);
    await opened2.close();
  });

  it("stops cleanly when the caller breaks off, and close() is idempotent", async () => {
    const opened = await openSource({ name: "three", path: fx.threePagePdf }, { dpi: 50 });
    for await (const p of opened.pages()) {
      expect(isPageFailure(p)).toBe(false);
      break;
    }
    await opened.close();
    await opened.close();
    const after: unknown[] = [];
    for await (const p of opened.pages()) after.push(p);
    expect(after).toEqual([]);
  });
});

describe("CJK rendering", () => {
  /** Poppler's rendering of letter.pdf page 2 at 100 dpi (made by fixtures/make-samples.sh). */
  async function reference() {
    const pbm = gunzipSync(await readFile(path.join(SAMPLES, "letter-p2.100dpi.pbm.gz")));
    const m = /^P4\s+(\d+)\s+(\d+)\s/.exec(pbm.toString("latin1", 0, 32))!;
    const [width, height, offset] = [Number(m[1]), Number(m[2]), m[0].length];
    const stride = Math.ceil(width / 8);
    const ink = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) ink[y * width + x] = (pbm[offset + y * stride + (x >> 3)]! >> (7 - (x & 7))) & 1;
    }
    return { width, height, ink };
  }

  /** Share of each image's ink within 1 px of ink in the other: recall against the reference, and precision. */
  function agreement(page: Page, ref: { width: number; height: number; ink: Uint8Array }) {
    const { width, height, data } = page.image;
    const ours = new Uint8Array(width * height);
    for (let i = 0; i < ours.length; i++) ours[i] = data[i * 3]! < 128 ? 1 : 0;
    const w = Math.min(width, ref.width);
    const h = Math.min(height, ref.height);
    const near = (img: Uint8Array, stride: number, x: number, y: number) => {
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const [xx, yy] = [x + dx, y + dy];
          if (xx >= 0 && yy >= 0 && xx < w && yy < h && img[yy * stride + xx]) return true;
        }
      }
      return false;
    };
    let [refInk, refHit, ourInk, ourHit] = [0, 0, 0, 0];
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (ref.ink[y * ref.width + x]) {
          refInk++;
          if (near(ours, width, x, y)) refHit++;
        }
        if (ours[y * width + x]) {
          ourInk++;
          if (near(ref.ink, ref.width, x, y)) ourHit++;
        }
      }
    }
    return { recall: refHit / refInk, precision: ourInk ? ourHit / ourInk : 0 };
  }

  it("draws the Chinese page of letter.pdf as poppler does", async () => {
    const ref = await reference();
    const page = await onlyPage(fx.letter, { dpi: 100, pages: parsePageSelection("2") });
    expect(page.warnings).toEqual([]);
    const { recall, precision } = agreement(page, ref);
    // Measured: recall 0.94, precision 0.9998 (the renderers anti-alias differently at the edges).
    expect(recall).toBeGreaterThan(0.9);
    expect(precision).toBeGreaterThan(0.98);
  });

  it("tells the same comparison fails when the CJK font is missing (tofu), and warns", async () => {
    const ref = await reference();
    const page = await onlyPage(fx.letterNoFonts, { dpi: 100, pages: parsePageSelection("2") });
    const { recall } = agreement(page, ref);
    expect(recall).toBeLessThan(0.3); // measured 0.11: empty boxes where the glyphs should be
    expect(page.warnings.join()).toMatch(/not embedded .* 164 CJK characters render as empty boxes/);
    const nonEmbedded = await onlyPage(fx.nonEmbeddedCjkPdf, { dpi: 72 });
    expect(nonEmbedded.warnings).toEqual([
      'font "STSong-Light" is not embedded in the PDF and no CJK font can stand in for it: its 4 CJK characters render as empty boxes and will not be recognised',
    ]);
  });

  it("carries a text layer that matches the ground truth (the sample is what it claims)", async () => {
    const pdfjs = await import("pdfjs-dist/legacy/build/pdf.mjs");
    const doc = await pdfjs.getDocument({ data: new Uint8Array(await readFile(fx.letter)), ...pdfjsOptions() }).promise;
    const truth = await groundTruth("letter");
    expect(truth).toHaveLength(2);
    const squash = (s: string) => s.replace(/\s+/g, "");
    for (let i = 1; i <= doc.numPages; i++) {
      const content = await (await doc.getPage(i)).getTextContent();
      const text = content.items.map((item) => ("str" in item ? item.str : "")).join("");
      expect(squash(text)).toBe(squash(truth[i - 1]!));
    }
    expect(truth[1]).toContain("尊敬的陈女士：");
    await doc.destroy();
  });
});

describe("loading cost", () => {
  it("imports sharp, pdfjs-dist, @napi-rs/canvas and file-type only lazily", async () => {
    const heavy = /^\s*import\s+(?!type\b)[^;]*from\s+["'](sharp|pdfjs-dist[^"']*|@napi-rs\/canvas|file-type)["']/m;
    for (const dir of ["src/inputs", "src/pages"]) {
      for (const file of await readdir(path.join(ROOT, dir))) {
        const source = await readFile(path.join(ROOT, dir, file), "utf8");
        expect(heavy.test(source), `${dir}/${file} imports a heavy module statically`).toBe(false);
      }
    }
  });
});

function inkRatio(page: Page): number {
  let ink = 0;
  for (let i = 0; i < page.image.data.length; i += 3) if (page.image.data[i]! < 128) ink++;
  return ink / (page.image.width * page.image.height);
}
