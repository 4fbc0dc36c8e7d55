// Templates and language grouping through the CLI: ppocr on the shipped menu, and fake
// vision-language engines whose answers are fixed, to test what happens to an answer.
import { beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { registerEngine } from "../src/engines/registry.js";
import type { EngineFactory, Page } from "../src/types.js";
import { runCli } from "./helpers/cli.js";
import { assertPageRecord } from "./helpers/schema.js";

const jsonl = (stdout: string) => stdout.trimEnd().split("\n").filter(Boolean).map((l) => JSON.parse(l));

/** A generative engine whose answer for a page comes from `answer`; it records the prompts it was given. */
function parrot(name: string, answer: (page: Page) => string): EngineFactory & { prompts: string[] } {
  const prompts: string[] = [];
  return {
    name,
    description: "test: answers with fixed text",
    generative: true,
    prompts,
    available: async () => ({ ok: true }),
    load: async () => ({
      info: { engine: name, model: "parrot" },
      loadMs: 0,
      close: async () => {},
      recognize: async (page, options) => {
        prompts.push(options?.prompt?.text ?? "");
        const text = answer(page);
        return { text, lines: [], finish: "stop", timings: {}, warnings: [] };
      },
    }),
  };
}

const receiptJson = JSON.stringify({ merchant: { name: "GREENLEAF MARKET" }, date: "2025-03-14", total: 51.16, currency: "USD", items: [{ name: "Whole Milk 1 gal", amount: 4.29 }] });
const receipts = parrot("receipt-parrot", (page) => (page.source.includes("letter") ? "Sorry, I cannot read this page." : `Here is the JSON:\n\`\`\`json\n${receiptJson}\n\`\`\``));
const grouped = parrot("grouped-parrot", () => "【中文】\n- 宫保鸡丁：¥38\n- 麻婆豆腐：¥26\n【英文】\n- Kung Pao Chicken: $5.2\n- Mapo Tofu: $3.6\n【日文】\n- 宮保鶏丁（クンパオチキン）");

let dir: string;
beforeAll(() => {
  [receipts, grouped].forEach(registerEngine);
  dir = mkdtempSync(path.join(tmpdir(), "qocr-tpl-"));
});

describe("language grouping with ppocr", () => {
  it("prints the menu's Chinese and English lines under their groups, in the article's order", async () => {
    const { code, stdout } = await runCli(["scan", "fixtures/samples/menu-zh-en-ja.png", "--group-by", "language", "-e", "ppocr", "--quiet"]);
    expect(code).toBe(0);
    const chinese = stdout.indexOf("[简体中文 (Simplified Chinese)]");
    const english = stdout.indexOf("[English]");
    expect(chinese).toBeGreaterThanOrEqual(0);
    expect(english).toBeGreaterThan(chinese);
    const englishSection = stdout.slice(english).split("\n\n")[0];
    expect(englishSection).toContain("Kung Pao Chicken $5.2");
    expect(englishSection).toContain("Jasmine Tea $1.7");
    expect(englishSection).not.toMatch(/\p{Script=Han}/u);
    expect(stdout.slice(chinese, english)).toContain("宫保鸡丁");
  });

  it("JSONL records carry each line's language and the page's groups", async () => {
    const { stdout } = await runCli(["scan", "fixtures/samples/menu-zh-en-ja.png", "-f", "jsonl", "-e", "ppocr", "--quiet"]);
    const [record] = jsonl(stdout);
    assertPageRecord(record);
    expect(record.languages.map((g: { lang: string }) => g.lang).slice(0, 2)).toEqual(["zh-Hans", "en"]);
    const kungPao = record.lines.find((l: { text: string }) => l.text.includes("Kung Pao"));
    expect(kungPao.lang).toBe("en");
    expect(record.lines.find((l: { text: string }) => l.text.includes("宫保鸡丁")).lang).toBe("zh-Hans");
  });

  it("markdown: --lang-names english names the sections in English", async () => {
    const { stdout } = await runCli(["scan", "fixtures/samples/menu-zh-en-ja.png", "--group-by", "language", "--lang-names", "english", "-f", "markdown", "-e", "ppocr", "--quiet"]);
    expect(stdout).toMatch(/### Simplified Chinese\n[\s\S]*### English\n/);
  });
});

describe("templates", () => {
  it("a structured template is refused for ppocr, which only reads text", async () => {
    const { code, stderr, stdout } = await runCli(["scan", "fixtures/samples/receipt.png", "--prompt", "invoice", "-e", "ppocr"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^qwen-ocr: prompt 'invoice' extracts fields as JSON and needs a vision-language engine .*ppocr only reads the text/);
    expect(stdout).toBe("");
  });

  it("a structured template's answer becomes data; one that does not validate fails that page alone (exit 1)", async () => {
    const { code, stdout, stderr } = await runCli(["scan", "fixtures/samples/letter.pdf", "fixtures/samples/receipt.png", "--pages", "1", "--prompt", "receipt", "-e", "receipt-parrot", "-f", "jsonl"]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/letter\.pdf: page 1: the answer is not valid 'receipt' JSON/);
    const [letter, receipt] = jsonl(stdout);
    [letter, receipt].forEach(assertPageRecord);
    expect(letter.error.code).toBe("invalid_output");
    expect(receipt.error).toBeUndefined();
    expect(receipt.data).toEqual(JSON.parse(receiptJson));
    expect(receipt.prompt).toBe("receipt");
    expect(receipts.prompts.at(-1)).toMatch(/JSON/);
  });

  it("the grouped template's own 【language】 sections become the groups; --var and --lang fill the template", async () => {
    const { code, stdout } = await runCli(["scan", "fixtures/samples/menu-zh-en-ja.png", "--prompt", "grouped", "--lang", "zh,en,ja", "-e", "grouped-parrot", "--quiet"]);
    expect(code).toBe(0);
    expect(grouped.prompts.at(-1)).toContain("请提取图中所有文字内容，并按语言分类整理。");
    expect(grouped.prompts.at(-1)).toMatch(/Chinese.*English.*Japanese/);
    expect(stdout).toBe("[简体中文 (Simplified Chinese)]\n宫保鸡丁：¥38\n麻婆豆腐：¥26\n\n[English]\nKung Pao Chicken: $5.2\nMapo Tofu: $3.6\n\n[日本語 (Japanese)]\n宮保鶏丁（クンパオチキン）\n");
  });

  it("an unknown template and a placeholder without a value are usage errors", async () => {
    expect((await runCli(["scan", "x.png", "--prompt", "nope", "-e", "grouped-parrot"])).stderr).toMatch(/unknown prompt "nope" \(known: .*invoice/);
    const bad = await runCli(["scan", "x.png", "--var", "novalue", "-e", "grouped-parrot"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--var expects key=value/);
  });

  it("prompts list and prompts show", async () => {
    const list = await runCli(["prompts", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^grouped +text +.+$/m);
    const show = await runCli(["prompts", "show", "invoice"]);
    expect(show.stdout).toMatch(/^---\nname: invoice\n/);
  });
});

describe("missing model", () => {
  it("--engine qwen without a model exits 3 before looking at the inputs", async () => {
    const { code, stderr } = await runCli(["scan", "missing.png", "--engine", "qwen", "--offline", "--model-dir", dir], { env: { QWEN_OCR_HOME: dir } });
    expect(code).toBe(3);
    expect(stderr).toMatch(/^qwen-ocr: qwen: model onnx-community\/Qwen3-VL-2B-Instruct-ONNX is not downloaded.*qwen-ocr models pull/);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
  });
});
