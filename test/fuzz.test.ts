/**
 * Hostile inputs and a fuzz run, on the built CLI with fast fake engines:
 * - a pixel bomb is refused before its pixels are allocated;
 * - a PDF of 10,000 empty pages streams in flat memory;
 * - a file that vanishes or turns into a directory mid-run fails alone;
 * - random mutations of the shipped samples (fixed seed, bounded count) each give a record or an
 *   error line, never a hang, and the exit code is 0 or 1.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { crc32 } from "node:zlib";
import { PDFDocument } from "pdf-lib";
import sharp from "sharp";
import { watchPeak } from "../scripts/bench/proc.js";
import { ROOT, runCli, spawnCli } from "./helpers/cli.js";
import { start } from "./helpers/spawn.js";

const SAMPLES = path.join(ROOT, "fixtures/samples");
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "qocr-fuzz-"));
});

const jsonl = (stdout: string) => stdout.trimEnd().split("\n").filter(Boolean).map((l) => JSON.parse(l));

/** Runs the built CLI to its end, sampling its peak resident memory (VmHWM) from /proc. */
async function peakRun(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; peakMb: number }> {
  const run = start(args, { timeoutMs });
  const stopPeak = watchPeak(run.child.pid!, 25);
  const { code, stdout } = await run.done;
  return { code, stdout, peakMb: stopPeak() };
}

async function emptyPagesPdf(n: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  for (let i = 0; i < n; i++) doc.addPage([72, 72]);
  return doc.save({ useObjectStreams: true });
}

describe("hostile inputs", () => {
  it("a PNG that declares 60000 x 60000 pixels is refused (too_large) before decoding", async () => {
    const png = Buffer.from(await sharp({ create: { width: 8, height: 8, channels: 3, background: "#fff" } }).png().toBuffer());
    png.writeUInt32BE(60000, 16);
    png.writeUInt32BE(60000, 20);
    png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
    const bomb = path.join(dir, "bomb.png");
    writeFileSync(bomb, png);
    const started = performance.now();
    const { code, stdout, stderr } = await runCli(["scan", bomb, "fixtures/samples/receipt.png", "--plugin", "./test/fakes/engines.mjs", "-e", "echo", "-f", "jsonl"]);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(code).toBe(1);
    expect(stderr).toMatch(/bomb\.png: image has more than 268 MP pixels/);
    expect(jsonl(stdout).map((r) => r.error?.code ?? "ok")).toEqual(["too_large", "ok"]);
  });

  it("a PDF of 10,000 empty pages streams: every record comes out, and peak memory stays near a 1,000-page run's", async () => {
    const small = path.join(dir, "1k.pdf");
    const big = path.join(dir, "10k.pdf");
    writeFileSync(small, await emptyPagesPdf(1000));
    writeFileSync(big, await emptyPagesPdf(10_000));
    const args = (file: string) => ["scan", file, "--plugin", "./test/fakes/engines.mjs", "-e", "empty", "-f", "jsonl", "--dpi", "36"];
    // The time limits only catch a hang: pdf.js finds a page by walking the page tree, so a flat
    // tree of 10,000 kids costs O(n) a page (about 70 s here alone, more beside other test files).
    const a = await peakRun(args(small), 60_000);
    const b = await peakRun(args(big), 300_000);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const records = b.stdout.trimEnd().split("\n");
    expect(records).toHaveLength(10_000);
    expect(JSON.parse(records[9999]!)).toMatchObject({ page: 10_000, pages: 10_000, text: "" });
    // Measured: 326 MB for 1,000 pages, 367 MB for 10,000 (1.7 GB before the pipeline yielded to the event loop per page).
    expect(b.peakMb).toBeLessThan(a.peakMb * 1.5);
  }, 400_000);

  it.each([
    ["without the cache", {}],
    ["with the cache", { QWEN_OCR_CACHE: "1" }],
  ])("a file deleted, and one replaced by a directory, while an earlier input is read fail alone (%s)", async (_name, extra) => {
    const sub = mkdtempSync(path.join(dir, "vanish-"));
    const gone = path.join(sub, "gone.png");
    const turned = path.join(sub, "turned.pdf");
    const kept = path.join(sub, "kept.png");
    copyFileSync(path.join(SAMPLES, "receipt.png"), gone);
    copyFileSync(path.join(SAMPLES, "letter.pdf"), turned);
    copyFileSync(path.join(SAMPLES, "receipt.png"), kept);
    const env = { QWEN_OCR_HOME: path.join(sub, "home"), QWEN_OCR_TEST_VANISH: `${gone},dir:${turned}`, ...extra };
    const { code, stdout, stderr } = await runCli(
      ["scan", "fixtures/samples/menu-zh-en-ja.png", gone, turned, kept, "--plugin", "./test/fakes/batch.mjs", "-e", "vanish", "-f", "jsonl"],
      { env },
    );
    expect(code).toBe(1);
    expect(jsonl(stdout).map((r) => `${path.basename(r.source)}:${r.error?.code ?? "ok"}`)).toEqual([
      "menu-zh-en-ja.png:ok",
      "gone.png:not_found",
      "turned.pdf:unreadable",
      "kept.png:ok",
    ]);
    expect(stderr.trimEnd().split("\n")).toEqual([`qwen-ocr: ${gone}: no such file`, `qwen-ocr: ${turned}: is a directory`]);
  });
});

/** mulberry32: a small, fixed-seed PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = (bytes: Buffer, other: Buffer) => Buffer;

function mutations(random: () => number): Array<[string, Mutation]> {
  const int = (n: number) => Math.floor(random() * n);
  return [
    ["flip bits", (b) => {
      const out = Buffer.from(b);
      for (let i = 0, n = 1 + int(16); i < n; i++) out[int(out.length)]! ^= 1 << int(8);
      return out;
    }],
    ["overwrite", (b) => {
      const out = Buffer.from(b);
      const at = int(out.length);
      for (let i = at; i < Math.min(out.length, at + 1 + int(256)); i++) out[i] = int(256);
      return out;
    }],
    ["truncate", (b) => b.subarray(0, int(b.length))],
    ["delete a chunk", (b) => {
      const at = int(b.length);
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(4096)))]);
    }],
    ["duplicate a chunk", (b) => {
      const at = int(b.length);
      const chunk = b.subarray(int(b.length), int(b.length) + 1 + int(4096));
      return Buffer.concat([b.subarray(0, at), chunk, b.subarray(at)]);
    }],
    ["header, then garbage", (b) => Buffer.concat([b.subarray(0, 16 + int(64)), Buffer.from(Array.from({ length: 1 + int(2048) }, () => int(256)))])],
    ["splice two samples", (b, other) => Buffer.concat([b.subarray(0, int(b.length)), other.subarray(int(other.length))])],
    ["huge numbers", (b) => {
      // PDFs: page counts, sizes, lengths and offsets become absurd; images: header fields do.
      const out = Buffer.from(b);
      const text = out.toString("latin1");
      const digits = [...text.matchAll(/\d{1,6}/g)];
      for (let i = 0, n = 1 + int(6); i < n && digits.length; i++) {
        const m = digits[int(digits.length)]!;
        out.write("9".repeat(m[0].length), m.index!, "latin1");
      }
      if (out.subarray(1, 4).toString("latin1") === "PNG") out.writeUInt32BE(1 + int(0x7fffffff), 16 + 4 * int(2));
      return out;
    }],
  ];
}

describe("fuzz: mutated samples", () => {
  const SEED = 20261125;
  const COUNT = 120;
  const BATCH = 10;

  it(`${COUNT} mutations (seed ${SEED}) each give a record, never a hang, exit 0 or 1`, async () => {
    const random = prng(SEED);
    const samples = readdirSync(SAMPLES)
      .filter((f) => /\.(png|pdf|txt)$/.test(f))
      .sort()
      .map((f) => ({ name: f, bytes: readFileSync(path.join(SAMPLES, f)) }));
    const kinds = mutations(random);
    const fuzzDir = mkdtempSync(path.join(dir, "mutants-"));
    const made: Array<{ file: string; how: string }> = [];
    for (let i = 0; i < COUNT; i++) {
      const sample = samples[Math.floor(random() * samples.length)]!;
      const other = samples[Math.floor(random() * samples.length)]!;
      const [how, mutate] = kinds[Math.floor(random() * kinds.length)]!;
      const file = path.join(fuzzDir, `m${String(i).padStart(3, "0")}-${sample.name}`);
      writeFileSync(file, mutate(sample.bytes, other.bytes));
      made.push({ file, how: `${how} of ${sample.name}` });
    }
    const started = performance.now();
    for (let i = 0; i < made.length; i += BATCH) {
      const batch = made.slice(i, i + BATCH);
      const { code, stdout, stderr } = await spawnCli(
        ["scan", ...batch.map((m) => m.file), "--plugin", "./test/fakes/engines.mjs", "-e", "echo", "-f", "jsonl", "--dpi", "50", "--page-timeout", "20"],
        { timeoutMs: 40_000 },
      );
      const context = `batch ${i / BATCH}: ${batch.map((m) => `${path.basename(m.file)} (${m.how})`).join(", ")}\n${stderr.slice(-2000)}`;
      expect([0, 1], context).toContain(code);
      const records = jsonl(stdout);
      for (const m of batch) {
        const own = records.filter((r) => r.source === m.file);
        const line = stderr.includes(`qwen-ocr: ${m.file}:`);
        expect(own.length > 0 || line, `${path.basename(m.file)} (${m.how}): no record and no error line\n${context}`).toBe(true);
        for (const r of own) expect(r.error ? typeof r.error.code : typeof r.text, context).toBe("string");
      }
      expect(stderr, context).not.toMatch(/internal error/);
    }
    expect(performance.now() - started).toBeLessThan(60_000);
  }, 120_000);
});
