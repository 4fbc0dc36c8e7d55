import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findTemplate, groupsFromAnswer, parseGroupedAnswer, parseJsonAnswer, extractJson } from "../src/prompts/index.js";

const answer = (name: string) => readFileSync(path.join(import.meta.dirname, "fixtures/answers", name), "utf8");
const summary = (text: string) => parseGroupedAnswer(text).map((g) => [g.heading, g.lang, g.lines.length]);

describe("grouped answers", () => {
  it("【中文】 sections with - items", () => {
    const groups = parseGroupedAnswer(answer("grouped-menu-brackets.txt"));
    expect(groups.map((g) => [g.heading, g.lang, g.lines.length])).toEqual([
      ["中文", "zh-Hans", 7],
      ["英文", "en", 7],
      ["日文", "ja", 7],
    ]);
    expect(groups[0].lines[2]).toBe("鱼香肉丝　¥32");
    expect(groups[2].text.split("\n")[6]).toBe("焼き餃子（8個）");
  });

  it("the article's answer flattened onto one line per section", () => {
    const groups = parseGroupedAnswer(answer("grouped-menu-flat.txt"));
    expect(groups.map((g) => [g.lang, g.lines])).toEqual([
      ["zh-Hans", ["宫保鸡丁：¥38", "麻婆豆腐：¥26"]],
      ["en", ["Kung Pao Chicken: $5.2", "Mapo Tofu: $3.6"]],
      ["ja", ["宮保鶏丁（コウホーチーチン）", "麻婆豆腐（マーボーどうふ）"]],
    ]);
  });

  it("## Chinese markdown headings after an introduction", () => {
    expect(summary(answer("grouped-menu-markdown.md"))).toEqual([
      ["Chinese", "zh-Hans", 4],
      ["English", "en", 4],
      ["Japanese", "ja", 4],
    ]);
  });

  it("### 中文（简体） / ### 日本語 headings without list markers", () => {
    const groups = parseGroupedAnswer(answer("grouped-menu-markdown-native.md"));
    expect(groups.map((g) => [g.lang, g.lines])).toEqual([
      ["zh-Hans", ["川味小馆", "水煮鱼　¥58", "担担面　¥18"]],
      ["en", ["Sichuan Corner", "Boiled Fish in Chili Oil　$8.1", "Dan Dan Noodles　$2.5"]],
      ["ja", ["四川料理の店", "水煮魚（スイジューユィ）", "担々麺（タンタンメン）"]],
    ]);
  });

  it("Japanese: / English: label lines, with an item on the label's line", () => {
    const groups = parseGroupedAnswer(answer("grouped-sign-labels.txt"));
    expect(groups.map((g) => [g.lang, g.lines])).toEqual([
      ["ja", ["ポイ捨て禁止！", "清潔できれいな港区を", "港区"]],
      ["en", ["NO LITTER", "MINATO CITY"]],
    ]);
  });

  it("[English] bracket headings", () => {
    expect(summary(answer("grouped-udhr-square.txt"))).toEqual([
      ["Japanese", "ja", 4],
      ["English", "en", 4],
    ]);
  });

  it("**韩文：** bold labels with numbered items; the introduction and the closing remark are dropped", () => {
    const groups = parseGroupedAnswer(answer("grouped-receipt-bold.md"));
    expect(groups.map((g) => [g.heading, g.lang, g.lines])).toEqual([
      ["韩文", "ko", ["한솔 베이커리 (홍대점)", "서울시 마포구 양화로 45", "크루아상 2 7,000", "소금빵 3 9,000", "합계 20,500", "감사합니다"]],
      ["其他", "und", ["2024-06-12 08:31"]],
    ]);
  });

  it("Traditional Chinese under a 中文 heading is zh-Hant; a language heading met twice adds to its section", () => {
    const groups = parseGroupedAnswer("【中文】\n- 謝謝光臨\n【English】\n- Thank you\n【中文】\n- 歡迎再來");
    expect(groups.map((g) => [g.lang, g.lines])).toEqual([
      ["zh-Hant", ["謝謝光臨", "歡迎再來"]],
      ["en", ["Thank you"]],
    ]);
  });

  it("an answer without language headings gives no groups", () => {
    expect(parseGroupedAnswer("鱼香肉丝 ¥32\nTotal: 80\n[see below]")).toEqual([]);
    expect(groupsFromAnswer("just text")).toBeUndefined();
  });

  it("groupsFromAnswer gives record lines and language groups indexing them", () => {
    const result = groupsFromAnswer(answer("grouped-menu-flat.txt"))!;
    expect(result.lines).toHaveLength(6);
    expect(result.groups.map((g) => [g.lang, g.name, g.script, g.dir, g.lines])).toEqual([
      ["zh-Hans", "简体中文 (Simplified Chinese)", "Hans", "ltr", [0, 1]],
      ["en", "English", "Latn", "ltr", [2, 3]],
      ["ja", "日本語 (Japanese)", "Jpan", "ltr", [4, 5]],
    ]);
    expect(groupsFromAnswer("## Arabic\nمرحبا")?.groups[0]).toMatchObject({ lang: "ar", dir: "rtl" });
  });
});

describe("JSON answers", () => {
  it("JSON in a code fence, with prose around it, validates against the invoice schema", async () => {
    const { schema } = await findTemplate("invoice");
    const result = await parseJsonAnswer(answer("json-invoice-fenced.txt"), schema);
    expect(result).toHaveProperty("data");
    const data = (result as { data: { total: number; items: unknown[]; buyer: { name: string } } }).data;
    expect(data.total).toBe(74250);
    expect(data.items).toHaveLength(3);
    expect(data.buyer.name).toBe("株式会社さくら商事 御中");
  });

  it("JSON in prose without a fence, with trailing commas and a comment", async () => {
    const { schema } = await findTemplate("receipt");
    const result = await parseJsonAnswer(answer("json-receipt-prose.txt"), schema);
    expect(result).toMatchObject({ data: { total: 20500, payment_method: "카드결제", merchant: { phone: "02-333-1234" } } });
  });

  it("a JSON array (text spotting) in a fence", async () => {
    const { schema } = await findTemplate("spotting");
    const result = await parseJsonAnswer(answer("json-spotting.txt"), schema);
    expect((result as { data: unknown[] }).data).toHaveLength(4);
  });

  it("amounts written as strings fail the schema with a readable message", async () => {
    const { schema } = await findTemplate("invoice");
    const result = await parseJsonAnswer(answer("json-invoice-mismatch.txt"), schema);
    expect(result).toHaveProperty("error");
    const { error } = result as { error: { code: string; message: string } };
    expect(error.code).toBe("schema_mismatch");
    expect(error.message).toMatch(/\/total must be number,null/);
  });

  it("cut-off JSON, and answers with no JSON at all", async () => {
    expect(await parseJsonAnswer(answer("json-invoice-truncated.txt"))).toMatchObject({ error: { code: "invalid_json", message: expect.stringMatching(/cut off/) } });
    expect(await parseJsonAnswer("I could not read the image.")).toMatchObject({ error: { code: "no_json" } });
    expect(extractJson("{'a': 1}")).toMatchObject({ error: { code: "invalid_json" } });
  });

  it("repairs stay outside strings; Python literals and a bracket in the prose before it", () => {
    expect(extractJson('Result [1 of 1]: {"a": "x, }", "b": True, "c": None,}')).toEqual({ data: { a: "x, }", b: true, c: null } });
    expect(extractJson('```\n{"url": "http://example.com/a"} // note\n```')).toEqual({ data: { url: "http://example.com/a" } });
  });
});
