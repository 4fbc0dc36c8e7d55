// PDFs with and without usable text layers, made with pdf-lib at test time: born-digital text,
// scanned (image-only) pages, fonts whose text maps to garbage, a scan with a scanner's stamp,
// a scan under an invisible OCR layer, Chinese, right-to-left text.
import {
  beginText,
  endText,
  moveText,
  PDFDocument,
  PDFHexString,
  PDFName,
  setFontAndSize,
  setTextRenderingMode,
  showText,
  StandardFonts,
  TextRenderingMode,
  type PDFFont,
  type PDFPage,
} from "pdf-lib";
import sharp from "sharp";

/** A page-sized "scan": grey paper with dark bars where lines of text would be. */
export async function scanPng(width = 425, height = 550): Promise<Uint8Array> {
  const data = Buffer.alloc(width * height * 3, 235);
  for (let line = 0; line < 12; line++) {
    const y0 = 40 + line * 40;
    for (let y = y0; y < y0 + 14 && y < height; y++) {
      for (let x = 40; x < width - 40 - (line % 3) * 60; x++) {
        if (x % 17 < 13) data.fill(30, (y * width + x) * 3, (y * width + x) * 3 + 3);
      }
    }
  }
  return new Uint8Array(await sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer());
}

export const PARAGRAPH = [
  "The quick brown fox jumps over the lazy dog.",
  "Pack my box with five dozen liquor jugs.",
  "How vexingly quick daft zebras jump!",
  "Sphinx of black quartz, judge my vow.",
];

/** Text drawn with a standard font (WinAnsi, no ToUnicode needed): a real text layer. */
function drawParagraph(page: PDFPage, font: PDFFont, bold: PDFFont, top: number): void {
  page.drawText("Invoice 2024-117", { x: 50, y: top, size: 18, font: bold });
  PARAGRAPH.forEach((line, i) => page.drawText(line, { x: 50, y: top - 40 - i * 16, size: 12, font }));
  // One line in two pieces, two fonts: "Total due:" (bold) and "EUR 1,250.00" further right.
  page.drawText("Total due:", { x: 50, y: top - 120, size: 12, font: bold });
  page.drawText("EUR 1,250.00", { x: 200, y: top - 120, size: 12, font });
}

function rawContent(doc: PDFDocument, page: PDFPage, content: string): void {
  page.node.set(PDFName.of("Contents"), doc.context.register(doc.context.stream(content)));
}

/** A simple font whose ToUnicode map sends every code to the private use area: text that cannot be read. */
function privateUseFont(doc: PDFDocument) {
  const ctx = doc.context;
  const cmap = [
    "/CIDInit /ProcSet findresource begin",
    "12 dict begin begincmap",
    "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
    "/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
    "1 begincodespacerange <00> <FF> endcodespacerange",
    "1 beginbfrange <20> <7E> <E020> endbfrange",
    "endcmap CMapName currentdict /CMap defineresource pop end end",
  ].join("\n");
  return ctx.register(
    ctx.obj({
      Type: "Font",
      Subtype: "Type1",
      BaseFont: "Helvetica",
      Encoding: "WinAnsiEncoding",
      ToUnicode: ctx.register(ctx.stream(cmap)),
    }),
  );
}

/**
 * A Type3 font with no ToUnicode map whose glyphs have made-up names (/g1, /g2, …) and draw
 * boxes: what a subset font without a Unicode mapping looks like to a text extractor.
 */
function unmappedType3Font(doc: PDFDocument) {
  const ctx = doc.context;
  const procs: Record<string, unknown> = {};
  const names: string[] = [];
  for (let i = 1; i <= 26; i++) {
    names.push(`/g${i}`);
    procs[`g${i}`] = ctx.register(ctx.stream(`600 0 50 0 550 700 d1 50 0 500 ${200 + i * 15} re f`));
  }
  return ctx.register(
    ctx.obj({
      Type: "Font",
      Subtype: "Type3",
      FontBBox: [0, 0, 600, 700],
      FontMatrix: [0.001, 0, 0, 0.001, 0, 0],
      CharProcs: ctx.obj(procs as never),
      Encoding: ctx.obj({ Type: "Encoding", Differences: ctx.obj([1, ...names.map((n) => PDFName.of(n.slice(1)))] as never) }),
      FirstChar: 1,
      LastChar: 26,
      Widths: Array(26).fill(600),
      Resources: ctx.obj({}),
    }),
  );
}

function hex(codes: number[]): string {
  return PDFHexString.of(codes.map((c) => c.toString(16).padStart(2, "0")).join("")).toString();
}

export interface MixedPdf {
  bytes: Uint8Array;
  /** What `auto` should do with each page, and why. */
  expected: Array<"text-layer" | "ocr">;
}

/**
 * Seven pages, one per case:
 * 1 born-digital text; 2 image only (a scan); 3 text mapped to the private use area;
 * 4 a Type3 font with no Unicode mapping; 5 a scan with a scanner's one-line stamp;
 * 6 a scan under an invisible (render mode 3) OCR layer of real text, a page's worth; 7 an empty page.
 */
export async function mixedPdf(): Promise<MixedPdf> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const png = await doc.embedPng(await scanPng());
  const size: [number, number] = [425, 550];

  const p1 = doc.addPage(size);
  drawParagraph(p1, font, bold, 480);

  const p2 = doc.addPage(size);
  p2.drawImage(png, { x: 0, y: 0, width: size[0], height: size[1] });

  const p3 = doc.addPage(size);
  p3.node.setFontDictionary(PDFName.of("FP"), privateUseFont(doc));
  const pua = PARAGRAPH.map((line, i) => `BT /FP 12 Tf 50 ${480 - i * 16} Td ${hex([...line].map((c) => c.charCodeAt(0)))} Tj ET`).join("\n");
  rawContent(doc, p3, pua);

  const p4 = doc.addPage(size);
  p4.node.setFontDictionary(PDFName.of("T3"), unmappedType3Font(doc));
  const t3 = PARAGRAPH.map((line, i) => `BT /T3 12 Tf 50 ${480 - i * 16} Td ${hex([...line.toLowerCase()].map((c) => (c >= "a" && c <= "z" ? c.charCodeAt(0) - 96 : 1)))} Tj ET`).join("\n");
  rawContent(doc, p4, t3);

  const p5 = doc.addPage(size);
  p5.drawImage(png, { x: 0, y: 0, width: size[0], height: size[1] });
  p5.drawText("Scanned with QwenScanner", { x: 150, y: 10, size: 8, font });

  const p6 = doc.addPage(size);
  p6.drawImage(png, { x: 0, y: 0, width: size[0], height: size[1] });
  const key = p6.node.newFontDictionary(font.name, font.ref);
  // A whole page's worth of recognised text (over 200 characters), as OCRmyPDF or a scanner leaves it.
  [...PARAGRAPH, ...PARAGRAPH, ...PARAGRAPH].forEach((line, i) =>
    p6.pushOperators(beginText(), setFontAndSize(key, 12), setTextRenderingMode(TextRenderingMode.Invisible), moveText(40, 500 - i * 40), showText(font.encodeText(line)), endText()),
  );

  doc.addPage(size);
  return { bytes: await doc.save({ useObjectStreams: false }), expected: ["text-layer", "ocr", "ocr", "ocr", "ocr", "text-layer", "ocr"] };
}
