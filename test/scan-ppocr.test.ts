// End to end with the real built-in engine: shipped samples in, text out, through the CLI.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { cer } from "../scripts/lib/score.js";
import { makeFixtures, removeFixtures, type Fixtures } from "./fixtures.js";
import { ROOT, runCli } from "./helpers/cli.js";
import { assertPageRecord } from "./helpers/schema.js";

const samples = path.join(ROOT, "fixtures/samples");
const truth = (name: string) => readFileSync(path.join(samples, name), "utf8");
/** The receipt's text without its dashed rules, which are drawing, not text. */
const receiptText = () => truth("receipt.txt").replace(/^-+$/gm, "");
const jsonl = (stdout: string) => stdout.trimEnd().split("\n").filter(Boolean).map((l) => JSON.parse(l));

let fx: Fixtures;
beforeAll(async () => {
  fx = await makeFixtures();
});
afterAll(async () => {
  await removeFixtures(fx);
});

describe("ppocr through the CLI", () => {
  it("reads the shipped receipt (the README's first command)", async () => {
    const { code, stdout, stderr } = await runCli(["scan", "fixtures/samples/receipt.png", "--quiet"]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(cer(stdout, receiptText()).cer).toBeLessThan(0.1);
    expect(stdout).toMatch(/TOTAL\s+51\.16/);
  });

  it("reads both pages of a PDF, the Chinese one rendered with its embedded CJK font", async () => {
    const { code, stdout } = await runCli(["scan", "fixtures/samples/letter.pdf", "-f", "jsonl", "--quiet", "--pdf-text", "ocr"]);
    expect(code).toBe(0);
    const records = jsonl(stdout);
    records.forEach(assertPageRecord);
    const [english, chinese] = truth("letter.txt").split("\f");
    expect(records.map((r) => r.page)).toEqual([1, 2]);
    expect(cer(records[0].text, english).cer).toBeLessThan(0.03);
    expect(cer(records[1].text, chinese, { ignoreWhitespace: true }).cer).toBeLessThan(0.03);
    expect(records[1].text).toContain("哈尔滨印刷设计有限公司");
  });

  it("reads every page of a multi-page TIFF", async () => {
    const { code, stdout } = await runCli(["scan", fx.multipageTiff, "-f", "jsonl", "--quiet"]);
    expect(code).toBe(0);
    const records = jsonl(stdout);
    expect(records.map((r) => `${r.page}/${r.pages}`)).toEqual(["1/3", "2/3", "3/3"]);
    expect(records[0].text).toContain("GREENLEAF");
    expect(records[1].text).toContain("宫保鸡丁");
  });

  it.each([90, 180, 270])("turns a page rotated by %i° upright", async (angle) => {
    const file = path.join(fx.dir, `receipt-${angle}.png`);
    writeFileSync(file, await sharp(path.join(samples, "receipt.png")).rotate(angle).png().toBuffer());
    const { code, stdout } = await runCli(["scan", file, "-f", "jsonl", "--quiet"]);
    expect(code).toBe(0);
    const [record] = jsonl(stdout);
    expect(record.rotation).toBe((360 - angle) % 360);
    expect(cer(record.text, receiptText()).cer).toBeLessThan(0.1);
  });

  it("a PDF page that fails to render fails alone", async () => {
    const { code, stdout, stderr } = await runCli(["scan", fx.brokenPagePdf, "fixtures/samples/receipt.png", "-f", "jsonl", "--quiet"]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^qwen-ocr: .*broken-page\.pdf: page 3: .+\n$/);
    const records = jsonl(stdout);
    expect(records.map((r) => `${path.basename(r.source)}#${r.page}:${r.error?.code ?? "ok"}`)).toEqual([
      "broken-page.pdf#1:ok",
      "broken-page.pdf#2:ok",
      "broken-page.pdf#3:render_failed",
      "receipt.png#1:ok",
    ]);
  });
});
