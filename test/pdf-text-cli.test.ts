// --pdf-text auto|ocr|text through the CLI: which pages of a PDF are read from their own text
// layer and which are OCR'd (with a spy engine that records what it is given), the `origin` field,
// templates, the cache, and the born-digital and scanned PDFs of ../shared/eval when present.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { registerEngine } from "../src/engines/registry.js";
import type { EngineFactory, PageRecord } from "../src/types.js";
import { readManifest } from "../scripts/lib/manifest.js";
import { cer } from "../scripts/lib/score.js";
import { ROOT, SHARED, runCli } from "./helpers/cli.js";
import { assertPageRecord } from "./helpers/schema.js";
import { mixedPdf, PARAGRAPH, type MixedPdf } from "./helpers/text-pdfs.js";

const jsonl = (stdout: string): PageRecord[] => stdout.trimEnd().split("\n").filter(Boolean).map((l) => JSON.parse(l) as PageRecord);

/** A generative engine that answers with a fixed text and records every page it is given. */
function spy(name: string, answer = (page: number) => `ocr of page ${page}`): EngineFactory & { seen: number[]; loads: () => number; reset(): void } {
  let loads = 0;
  const seen: number[] = [];
  return {
    name,
    description: "test: records the pages it reads",
    generative: true,
    seen,
    loads: () => loads,
    reset() {
      loads = 0;
      seen.length = 0;
    },
    available: async () => ({ ok: true }),
    load: async () => {
      loads++;
      return {
        info: { engine: name, model: "spy-model" },
        loadMs: 0,
        close: async () => {},
        recognize: async (page) => {
          if (page.textLayer || page.image.width === 0) throw new Error("the engine was given a page that was not rasterized");
          seen.push(page.page);
          const text = answer(page.page);
          return { text, lines: [{ text }], finish: "stop", timings: {}, warnings: [] };
        },
      };
    },
  };
}

const engine = spy("pdftext-spy");
let dir: string;
let mixed: MixedPdf;
let mixedFile: string;
/** A home of its own, so that the result cache (off in tests unless turned on) starts empty. */
const env = (cache = false) => ({ QWEN_OCR_HOME: path.join(dir, "home"), ...(cache ? { QWEN_OCR_CACHE: "1" } : {}) });
const scan = (...args: string[]) => runCli(["scan", ...args, "-e", engine.name, "-f", "jsonl"], { env: env() });
const scanCached = (...args: string[]) => runCli(["scan", ...args, "-e", engine.name, "-f", "jsonl"], { env: env(true) });

beforeAll(async () => {
  registerEngine(engine);
  mkdirSync(path.join(ROOT, "test/.tmp"), { recursive: true });
  dir = mkdtempSync(path.join(ROOT, "test/.tmp/pdf-text-"));
  mixed = await mixedPdf();
  mixedFile = path.join(dir, "mixed.pdf");
  writeFileSync(mixedFile, mixed.bytes);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("--pdf-text auto (the default)", () => {
  it("reads real text layers and OCRs scans, unmapped and private-use text, a stamped scan and an empty page", async () => {
    engine.reset();
    const { code, stdout, stderr } = await scan(mixedFile);
    expect(code).toBe(0);
    const records = jsonl(stdout);
    records.forEach(assertPageRecord);
    expect(records.map((r) => r.origin)).toEqual(mixed.expected);
    const ocrd = mixed.expected.flatMap((o, i) => (o === "ocr" ? [i + 1] : []));
    expect(engine.seen).toEqual(ocrd);

    const [first] = records;
    expect(first!.text).toBe(["Invoice 2024-117", ...PARAGRAPH, "Total due: EUR 1,250.00"].join("\n"));
    expect(first).toMatchObject({ engine: engine.name, model: "", finish: "stop", width: 1181, height: 1528, timings: { inferMs: 0 } });
    expect(first!.prompt).toBeUndefined();
    for (const line of first!.lines) {
      const [l, t, r, b] = line.bbox!;
      expect(0 <= l && l < r && r <= 1181 && 0 <= t && t < b && b <= 1528).toBe(true);
      expect(line.lang).toBe("en"); // the language stage runs on text-layer lines too
    }
    // 50 pt from the left at 200 dpi; the title's baseline 70 pt from the top.
    expect(first!.lines[0]!.bbox![0]).toBe(138);
    expect(first!.languages?.[0]?.lang).toBe("en");

    // The invisible OCR layer over page 6's scan is a page's worth of real text: it is used.
    expect(records[5]!.text.split("\n")).toEqual([...PARAGRAPH, ...PARAGRAPH, ...PARAGRAPH]);
    expect(records[1]).toMatchObject({ origin: "ocr", text: "ocr of page 2", model: "spy-model" });

    // Unreadable layers are worth a note; a scan, its stamp and an empty page are simply OCR'd.
    expect(stderr.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/mixed\.pdf: page 3: the page's text layer was not used \(157 of its 157 characters are unreadable .*\): OCR'd instead$/),
      expect.stringMatching(/mixed\.pdf: page 4: the page's text layer was not used \(\d+ of its \d+ characters are unreadable .*\): OCR'd instead$/),
    ]);
  });

  it("the shipped letter: both pages from the text layer, the Chinese one without spaces, the engine never loaded", async () => {
    engine.reset();
    const { code, stdout } = await scan("fixtures/samples/letter.pdf");
    expect(code).toBe(0);
    const records = jsonl(stdout);
    expect(records.map((r) => r.origin)).toEqual(["text-layer", "text-layer"]);
    expect(engine.loads()).toBe(0);
    const [english, chinese] = readFileSync(path.join(ROOT, "fixtures/samples/letter.txt"), "utf8").split("\f");
    expect(cer(records[0]!.text, english!).cer).toBeLessThan(0.01);
    expect(cer(records[1]!.text, chinese!, { ignoreWhitespace: true }).cer).toBe(0);
    expect(records[1]!.lines.find((l) => l.text === "哈尔滨印刷设计有限公司")?.lang).toBe("zh-Hans");
  });

  it("boxes and sizes follow --dpi", async () => {
    const { stdout } = await scan(mixedFile, "--pages", "1", "--dpi", "72");
    const [record] = jsonl(stdout);
    expect([record!.width, record!.height]).toEqual([425, 550]);
    expect(record!.lines[0]!.bbox![0]).toBe(50);
  });

  it("a template that asks for more than the text (JSON, Markdown) has every page OCR'd", async () => {
    engine.reset();
    const { code, stdout } = await runCli(["scan", mixedFile, "--pages", "1-2", "-e", engine.name, "--prompt", "markdown", "-f", "jsonl"], { env: env() });
    expect(code).toBe(0);
    expect(jsonl(stdout).map((r) => r.origin)).toEqual(["ocr", "ocr"]);
    expect(engine.seen).toEqual([1, 2]);
  });

  it("the cache keeps OCR'd pages only; a re-run reads text layers again and takes the rest from the cache", async () => {
    engine.reset();
    const first = jsonl((await scanCached(mixedFile)).stdout);
    const second = jsonl((await scanCached(mixedFile)).stdout);
    expect(engine.seen).toHaveLength(5); // the OCR'd pages, once
    expect(second.map((r) => r.origin)).toEqual(mixed.expected);
    expect(second.map((r) => r.cached ?? false)).toEqual(mixed.expected.map((o) => o === "ocr"));
    expect(second.map((r) => r.text)).toEqual(first.map((r) => r.text));
    // Another mode is another run as far as the cache is concerned: --pdf-text ocr reads every page.
    const ocr = jsonl((await scanCached(mixedFile, "--pdf-text", "ocr")).stdout);
    expect(ocr.every((r) => r.origin === "ocr" && !r.cached)).toBe(true);
    expect(engine.seen).toHaveLength(5 + 7);
  });
});

describe("--pdf-text ocr and text", () => {
  it("ocr: every page rasterized and read by the engine", async () => {
    engine.reset();
    const { code, stdout } = await scan(mixedFile, "--pdf-text", "ocr");
    expect(code).toBe(0);
    const records = jsonl(stdout);
    expect(records.map((r) => r.origin)).toEqual(Array(7).fill("ocr"));
    expect(engine.seen).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("text: nothing OCR'd, the engine not even loaded; pages without text are empty, with a note", async () => {
    engine.reset();
    const { code, stdout, stderr } = await scan(mixedFile, "--pdf-text", "text");
    expect(code).toBe(0);
    expect(engine.loads()).toBe(0);
    const records = jsonl(stdout);
    records.forEach(assertPageRecord);
    expect(records.map((r) => r.origin)).toEqual(Array(7).fill("text-layer"));
    expect(records[1]).toMatchObject({ text: "", lines: [], warnings: ["the page has no text layer (--pdf-text text: not OCR'd)"] });
    expect(records[4]!.text).toBe("Scanned with QwenScanner");
    expect(records[2]!.warnings[0]).toMatch(/^the page's text layer may not be real text \(.*unreadable.*\); --pdf-text text kept it$/);
    expect(stderr).toContain("mixed.pdf: page 2: the page has no text layer");
  });

  it("text with a structured template: the template is not applied, and that is said", async () => {
    const { code, stdout } = await runCli(["scan", mixedFile, "--pages", "1", "-e", engine.name, "--prompt", "invoice", "--pdf-text", "text", "-f", "jsonl"], { env: env() });
    expect(code).toBe(0);
    const [record] = jsonl(stdout);
    expect(record!.error).toBeUndefined();
    expect(record!.data).toBeUndefined();
    expect(record!.warnings).toEqual(["template 'invoice' was not applied: the page's own text layer was read (--pdf-text ocr reads it with the template)"]);
  });

  it("images are OCR'd whatever the mode", async () => {
    engine.reset();
    const { stdout } = await scan("fixtures/samples/receipt.png", "--pdf-text", "text");
    expect(jsonl(stdout)[0]).toMatchObject({ origin: "ocr", text: "ocr of page 1" });
  });

  it("an unknown mode is a usage error", async () => {
    const { code, stderr } = await scan(mixedFile, "--pdf-text", "sometimes");
    expect(code).toBe(2);
    expect(stderr).toMatch(/--pdf-text.*sometimes/);
  });
});

const EVAL = path.join(SHARED, "eval/multilingual");
describe.skipIf(!existsSync(path.join(EVAL, "manifest.json")))("the evaluation set's PDFs (../shared/eval)", () => {
  const manifest = () => readManifest(EVAL);

  it("born-digital PDFs: every page from its text layer, matching the ground truth", async () => {
    const entries = manifest().filter((e) => e.kind.startsWith("born-digital PDF"));
    const files = [...new Set(entries.map((e) => e.file))];
    engine.reset();
    const { code, stdout } = await scan(...files.map((f) => path.join(EVAL, f)));
    expect(code).toBe(0);
    const records = jsonl(stdout);
    expect(records.every((r) => r.origin === "text-layer")).toBe(true);
    expect(engine.loads()).toBe(0);
    for (const entry of entries) {
      const record = records.find((r) => r.source.endsWith(entry.file) && r.page === (entry.page ?? 1))!;
      const truth = readFileSync(path.join(EVAL, entry.gt_file), "utf8");
      const ignoreWhitespace = ["zh", "ja", "th"].includes(entry.languages[0]!);
      // Scored as ../shared/eval/README.md says. The only differences measured (2 edits in 3,007
      // characters): the Korean page's lines break inside words, where the ground truth has none.
      expect(cer(record.text, truth, { ignoreWhitespace }).cer, entry.id).toBeLessThan(0.02);
    }
  });

  it("the scanned PDF: every page OCR'd under auto", async () => {
    const scanned = manifest().find((e) => e.kind.startsWith("scanned PDF"))!;
    engine.reset();
    const { stdout } = await scan(path.join(EVAL, scanned.file));
    const records = jsonl(stdout);
    expect(records.map((r) => r.origin)).toEqual(["ocr", "ocr", "ocr"]);
    expect(engine.seen).toEqual([1, 2, 3]);
  });
});
