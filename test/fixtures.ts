/**
 * Input fixtures made at test time in a temp directory (nothing here is committed): every image
 * variant the `pages/` stage must normalise, broken and hostile files, and PDFs built with
 * pdf-lib. The committed samples (fixtures/samples) and fixtures/broken/encrypted.pdf (made by
 * fixtures/make-samples.sh with qpdf, since pdf-lib cannot encrypt) are listed alongside.
 *
 *   const fx = await makeFixtures();   // { receipt: "/tmp/.../receipt.png", exif6: ..., ... }
 *   ...
 *   await removeFixtures(fx);
 */
import { mkdtemp, readFile, rm, writeFile, copyFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { degrees, PDFDict, PDFDocument, PDFHexString, PDFName, PDFNumber, PDFString, StandardFonts } from "pdf-lib";
import sharp from "sharp";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const SAMPLES = path.join(ROOT, "fixtures", "samples");

/** Committed samples and their ground truth (`<name>.txt` beside each). */
export const samples = {
  receipt: path.join(SAMPLES, "receipt.png"),
  menu: path.join(SAMPLES, "menu-zh-en-ja.png"),
  letter: path.join(SAMPLES, "letter.pdf"),
  encryptedPdf: path.join(ROOT, "fixtures", "broken", "encrypted.pdf"),
} as const;

/** Ground truth of a sample; for the PDF, one string per page (the file separates them with \f). */
export async function groundTruth(name: "receipt" | "menu-zh-en-ja" | "letter"): Promise<string[]> {
  const text = await readFile(path.join(SAMPLES, `${name}.txt`), "utf8");
  return text.split("\f\n").map((page) => page.replace(/\n+$/, ""));
}

/**
 * The "upright" test card, 60 x 40: red top-left, green top-right, blue bottom-left, white
 * bottom-right quadrant. The orientation, colour and depth fixtures all decode back to it.
 */
export const CARD = { width: 60, height: 40 } as const;
export const CARD_COLOURS = {
  topLeft: [255, 0, 0],
  topRight: [0, 255, 0],
  bottomLeft: [0, 0, 255],
  bottomRight: [255, 255, 255],
} as const;

export type FixtureName =
  | "receipt"
  | "menu"
  | "letter"
  | "encryptedPdf"
  | "card"
  | "exif6"
  | "exif3"
  | "exif8"
  | "rgba"
  | "cmyk"
  | "png16"
  | "gray"
  | "palette"
  | "bmp"
  | "webp"
  | "avif"
  | "gif"
  | "animatedGif"
  | "dpi300"
  | "multipageTiff"
  | "brokenPageTiff"
  | "truncatedPng"
  | "truncatedJpeg"
  | "hugeHeaderPng"
  | "empty"
  | "textAsPng"
  | "svg"
  | "truncatedPdf"
  | "brokenPagePdf"
  | "threePagePdf"
  | "bigPagePdf"
  | "tallPagePdf"
  | "rotatedPdf"
  | "letterNoFonts"
  | "nonEmbeddedCjkPdf";

/** Paths of every fixture, plus `dir`, the temp directory holding the generated ones. */
export type Fixtures = Record<FixtureName, string> & { dir: string };

/** Raw RGB pixels of the test card. */
export function cardPixels(): Buffer {
  const { width: w, height: h } = CARD;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const c =
        y < h / 2
          ? x < w / 2
            ? CARD_COLOURS.topLeft
            : CARD_COLOURS.topRight
          : x < w / 2
            ? CARD_COLOURS.bottomLeft
            : CARD_COLOURS.bottomRight;
      raw.set(c, (y * w + x) * 3);
    }
  }
  return raw;
}

const card = () => sharp(cardPixels(), { raw: { width: CARD.width, height: CARD.height, channels: 3 } });

/** Writes every fixture into `dir` (a new temp directory by default) and returns their paths. */
export async function makeFixtures(dir?: string): Promise<Fixtures> {
  dir ??= await mkdtemp(path.join(tmpdir(), "qwen-ocr-fixtures-"));
  const at = (name: string) => path.join(dir!, name);
  const write = async (name: string, data: Uint8Array | string) => {
    await writeFile(at(name), data);
    return at(name);
  };

  const receiptBytes = await readFile(samples.receipt);
  const menuBytes = await readFile(samples.menu);
  const letterBytes = await readFile(samples.letter);
  await copyFile(samples.encryptedPdf, at("encrypted.pdf"));

  // Orientation: store the card turned so that the EXIF tag turns it back upright.
  // 6 = "rotate 90° clockwise to display", 3 = 180°, 8 = 90° counter-clockwise.
  const oriented = (angle: number, orientation: number) =>
    card().rotate(angle).jpeg({ quality: 95 }).withMetadata({ orientation }).toBuffer();

  // RGBA: transparent everywhere except an opaque black square and a half-transparent red one.
  const rgba = Buffer.alloc(CARD.width * CARD.height * 4);
  for (let y = 0; y < CARD.height; y++) {
    for (let x = 0; x < CARD.width; x++) {
      const i = (y * CARD.width + x) * 4;
      if (x < 20 && y < 20) rgba.set([0, 0, 0, 255], i);
      else if (x >= 40 && y >= 20) rgba.set([255, 0, 0, 128], i);
      else rgba.set([0, 128, 0, 0], i); // green, but fully transparent: must come out white
    }
  }

  // Multi-page TIFF: two sample pages scaled down (different sizes) and the card.
  const rawOf = async (img: ReturnType<typeof sharp>) => {
    const { data, info } = await img.removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  };
  const tiffPages = [
    await rawOf(sharp(receiptBytes).resize({ width: 364 })),
    await rawOf(sharp(menuBytes).resize({ width: 245 })),
    { data: cardPixels(), width: CARD.width, height: CARD.height },
  ];

  const pdf3 = await simplePdf(3);
  const tall = await simplePdf(1, [20, 20000]);
  const big = await simplePdf(1, [2000, 3000]);

  const paths: Record<FixtureName, string> = {
    receipt: samples.receipt,
    menu: samples.menu,
    letter: samples.letter,
    encryptedPdf: at("encrypted.pdf"),
    card: await write("card.png", await card().png().toBuffer()),
    exif6: await write("exif6.jpg", await oriented(-90, 6)),
    exif3: await write("exif3.jpg", await oriented(180, 3)),
    exif8: await write("exif8.jpg", await oriented(90, 8)),
    rgba: await write(
      "rgba.png",
      await sharp(rgba, { raw: { width: CARD.width, height: CARD.height, channels: 4 } }).png().toBuffer(),
    ),
    cmyk: await write("cmyk.jpg", await card().toColourspace("cmyk").jpeg({ quality: 95 }).toBuffer()),
    png16: await write("card16.png", await card().toColourspace("rgb16").png().toBuffer()),
    gray: await write("gray.png", await card().toColourspace("b-w").png().toBuffer()),
    palette: await write("palette.png", await card().png({ palette: true, colours: 8 }).toBuffer()),
    bmp: await write("card.bmp", encodeBmp(cardPixels(), CARD.width, CARD.height, 150)),
    webp: await write("card.webp", await card().webp({ lossless: true }).toBuffer()),
    avif: await write("card.avif", await card().avif({ lossless: true }).toBuffer()),
    gif: await write("card.gif", await card().gif().toBuffer()),
    animatedGif: await write(
      "animated.gif",
      await sharp([await card().png().toBuffer(), await card().negate().png().toBuffer(), await card().png().toBuffer()], {
        join: { animated: true },
      })
        .gif()
        .toBuffer(),
    ),
    dpi300: await write("dpi300.png", await card().png().withMetadata({ density: 300 }).toBuffer()),
    multipageTiff: await write("multipage.tif", encodeTiff(tiffPages)),
    brokenPageTiff: await write("broken-page.tif", encodeTiff(tiffPages, { breakPage: 2 })),
    truncatedPng: await write("truncated.png", receiptBytes.subarray(0, Math.floor(receiptBytes.length * 0.6))),
    truncatedJpeg: await write("truncated.jpg", await truncatedJpeg()),
    hugeHeaderPng: await write("huge-header.png", await hugeHeaderPng()),
    empty: await write("empty.png", ""),
    textAsPng: await write("notes.png", "Shopping list\n- milk\n- eggs\n"),
    svg: await write("drawing.png", '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>\n'),
    truncatedPdf: await write("truncated.pdf", letterBytes.subarray(0, Math.floor(letterBytes.length / 2))),
    brokenPagePdf: await write("broken-page.pdf", await brokenPagePdf()),
    threePagePdf: await write("three-pages.pdf", pdf3),
    bigPagePdf: await write("big-page.pdf", big),
    tallPagePdf: await write("tall-page.pdf", tall),
    rotatedPdf: await write("rotated.pdf", await rotatedPdf()),
    letterNoFonts: await write("letter-no-fonts.pdf", await stripEmbeddedFonts(letterBytes)),
    nonEmbeddedCjkPdf: await write("non-embedded-cjk.pdf", await nonEmbeddedCjkPdf()),
  };
  return { ...paths, dir };
}

/** Deletes the temp directory of `makeFixtures` (never the committed samples). */
export async function removeFixtures(fx: Fixtures): Promise<void> {
  if (path.resolve(fx.dir).startsWith(path.resolve(tmpdir()))) await rm(fx.dir, { recursive: true, force: true });
}

/** A PDF of `n` pages of `size` points, each saying "Page i" in big Helvetica. */
export async function simplePdf(n: number, size: [number, number] = [300, 200]): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let i = 1; i <= n; i++) {
    const page = doc.addPage(size);
    page.drawText(`Page ${i}`, { x: 10, y: size[1] / 2, size: Math.min(40, size[0] / 4), font });
  }
  return doc.save({ useObjectStreams: false });
}

/**
 * Three pages whose page tree has a broken last entry (a number where the page dictionary
 * should be), as in a damaged file: pages 1 and 2 render, page 3 fails. (pdfjs' recovery keeps
 * the count only when the broken entry is the last one; a broken middle entry makes it drop the
 * pages after it.)
 */
async function brokenPagePdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.load(await simplePdf(3));
  doc.catalog.Pages().Kids().set(2, doc.context.register(PDFNumber.of(7)));
  return doc.save({ useObjectStreams: false });
}

/** One 300 x 200 pt page with /Rotate 90: shown (and rendered) 200 wide and 300 high. */
async function rotatedPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.load(await simplePdf(1));
  doc.getPage(0).setRotation(degrees(90));
  return doc.save({ useObjectStreams: false });
}

/** The letter with its embedded font programs removed: what CJK looks like without its font. */
async function stripEmbeddedFonts(bytes: Uint8Array): Promise<Uint8Array> {
  const doc = await PDFDocument.load(bytes);
  for (const [, obj] of doc.context.enumerateIndirectObjects()) {
    if (obj instanceof PDFDict && obj.get(PDFName.of("Type")) === PDFName.of("FontDescriptor")) {
      for (const key of ["FontFile", "FontFile2", "FontFile3"]) obj.delete(PDFName.of(key));
    }
  }
  return doc.save({ useObjectStreams: false });
}

/**
 * "你好世界" in STSong-Light through the predefined UniGB-UCS2-H CMap, font not embedded: how
 * older office suites wrote Chinese. pdfjs in Node has no font to draw it with.
 */
async function nonEmbeddedCjkPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([300, 120]);
  const ctx = doc.context;
  const descriptor = ctx.register(
    ctx.obj({
      Type: "FontDescriptor",
      FontName: "STSong-Light",
      Flags: 6,
      FontBBox: [0, -200, 1000, 900],
      ItalicAngle: 0,
      Ascent: 880,
      Descent: -120,
      CapHeight: 880,
      StemV: 80,
    }),
  );
  const cidFont = ctx.register(
    ctx.obj({
      Type: "Font",
      Subtype: "CIDFontType0",
      BaseFont: "STSong-Light",
      CIDSystemInfo: { Registry: PDFString.of("Adobe"), Ordering: PDFString.of("GB1"), Supplement: 4 },
      FontDescriptor: descriptor,
    }),
  );
  const font = ctx.register(
    ctx.obj({
      Type: "Font",
      Subtype: "Type0",
      BaseFont: "STSong-Light-UniGB-UCS2-H",
      Encoding: "UniGB-UCS2-H",
      DescendantFonts: [cidFont],
    }),
  );
  page.node.setFontDictionary(PDFName.of("F1"), font);
  const hex = PDFHexString.of(
    [..."你好世界"].map((c) => c.charCodeAt(0).toString(16).padStart(4, "0")).join(""),
  ).toString();
  page.node.set(PDFName.of("Contents"), ctx.register(ctx.stream(`BT /F1 40 Tf 20 50 Td ${hex} Tj ET`)));
  return doc.save({ useObjectStreams: false });
}

async function truncatedJpeg(): Promise<Buffer> {
  const jpeg = await card().resize(300, 200).jpeg({ quality: 90 }).toBuffer();
  return jpeg.subarray(0, Math.floor(jpeg.length * 0.5));
}

/** A valid PNG whose header claims 20000 x 20000 pixels (400 MP): refused before decoding. */
async function hugeHeaderPng(): Promise<Buffer> {
  const png = Buffer.from(await card().png().toBuffer());
  png.writeUInt32BE(20000, 16);
  png.writeUInt32BE(20000, 20);
  // Fix the IHDR CRC so that it is a header readers accept.
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** A 24-bit bottom-up BMP (BITMAPINFOHEADER) of RGB pixels. */
export function encodeBmp(rgb: Buffer, width: number, height: number, dpi = 96): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + stride * height;
  const out = Buffer.alloc(size);
  out.write("BM", 0, "latin1");
  out.writeUInt32LE(size, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  out.writeUInt32LE(stride * height, 34);
  const ppm = Math.round(dpi / 0.0254);
  out.writeInt32LE(ppm, 38);
  out.writeInt32LE(ppm, 42);
  for (let y = 0; y < height; y++) {
    const row = 54 + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      out[row + x * 3] = rgb[i + 2]!;
      out[row + x * 3 + 1] = rgb[i + 1]!;
      out[row + x * 3 + 2] = rgb[i]!;
    }
  }
  return out;
}

/**
 * A little-endian, uncompressed RGB TIFF with one IFD per page (pages may differ in size). With
 * `breakPage`, that page's strip points past the end of the file, so only it fails to decode.
 */
export function encodeTiff(
  pages: Array<{ data: Buffer; width: number; height: number }>,
  options: { breakPage?: number; dpi?: number } = {},
): Buffer {
  const dpi = options.dpi ?? 200;
  const chunks: Buffer[] = [];
  let offset = 8;
  const header = Buffer.alloc(8);
  header.write("II", 0, "latin1");
  header.writeUInt16LE(42, 2);
  chunks.push(header);
  const ifdOffsets: number[] = [];
  const nextPointers: number[] = [];
  pages.forEach((page, index) => {
    const pixelsAt = offset;
    chunks.push(page.data);
    offset += page.data.length;
    const extra = Buffer.alloc(6 + 16); // BitsPerSample 8,8,8 then X/Y resolution rationals
    extra.writeUInt16LE(8, 0);
    extra.writeUInt16LE(8, 2);
    extra.writeUInt16LE(8, 4);
    extra.writeUInt32LE(dpi, 6);
    extra.writeUInt32LE(1, 10);
    extra.writeUInt32LE(dpi, 14);
    extra.writeUInt32LE(1, 18);
    const extraAt = offset;
    chunks.push(extra);
    offset += extra.length;
    if (offset % 2) {
      chunks.push(Buffer.alloc(1));
      offset += 1;
    }
    const stripAt = options.breakPage === index + 1 ? 0x7fff0000 : pixelsAt;
    // [tag, type (3 SHORT, 4 LONG, 5 RATIONAL), count, value]
    const entries: Array<[number, number, number, number]> = [
      [254, 4, 1, index === 0 ? 0 : 2], // NewSubfileType: 2 = a page of a multi-page document
      [256, 4, 1, page.width],
      [257, 4, 1, page.height],
      [258, 3, 3, extraAt],
      [259, 3, 1, 1],
      [262, 3, 1, 2],
      [273, 4, 1, stripAt],
      [277, 3, 1, 3],
      [278, 4, 1, page.height],
      [279, 4, 1, page.data.length],
      [282, 5, 1, extraAt + 6],
      [283, 5, 1, extraAt + 14],
      [284, 3, 1, 1],
      [296, 3, 1, 2],
      [297, 3, 2, index | (pages.length << 16)], // PageNumber: index, total
    ];
    const ifd = Buffer.alloc(2 + entries.length * 12 + 4);
    ifd.writeUInt16LE(entries.length, 0);
    entries.forEach(([tag, type, count, value], i) => {
      const at = 2 + i * 12;
      ifd.writeUInt16LE(tag, at);
      ifd.writeUInt16LE(type, at + 2);
      ifd.writeUInt32LE(count, at + 4);
      if (type === 3 && count === 1) ifd.writeUInt16LE(value, at + 8);
      else ifd.writeUInt32LE(value, at + 8);
    });
    ifdOffsets.push(offset);
    nextPointers.push(offset + 2 + entries.length * 12);
    chunks.push(ifd);
    offset += ifd.length;
  });
  const out = Buffer.concat(chunks);
  out.writeUInt32LE(ifdOffsets[0]!, 4);
  for (let i = 0; i < pages.length - 1; i++) out.writeUInt32LE(ifdOffsets[i + 1]!, nextPointers[i]!);
  return out;
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** The RGB value at (x, y) of an 8-bit RGB bitmap. */
export function pixelAt(image: { data: Uint8Array; width: number }, x: number, y: number): [number, number, number] {
  const i = (y * image.width + x) * 3;
  return [image.data[i]!, image.data[i + 1]!, image.data[i + 2]!];
}

/** Whether two RGB colours are within `tolerance` on every channel. */
export function near(a: readonly number[], b: readonly number[], tolerance = 24): boolean {
  return a.every((v, i) => Math.abs(v - b[i]!) <= tolerance);
}
