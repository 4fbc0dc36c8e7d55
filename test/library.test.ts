// The typed library API: what a Node user imports from "qwen-ocr".
import { describe, expect, it } from "vitest";
import { detectLanguage, groupByLanguage, parsePageSelection, registerEngine, scan, type PageRecord } from "../src/index.js";
import { echo } from "./fakes/engines.mjs";

describe("library API", () => {
  it("scan() yields the same records as the CLI, in input order, including failures", async () => {
    registerEngine(echo);
    const records: PageRecord[] = [];
    for await (const r of scan(["fixtures/samples/letter.pdf", "nope.png"], { engine: "echo", pages: parsePageSelection("2"), pdfText: "ocr" })) records.push(r);
    expect(records.map((r) => `${r.source}#${r.page}:${r.error?.code ?? "ok"}`)).toEqual(["fixtures/samples/letter.pdf#2:ok", "nope.png#0:not_found"]);
    expect(records[0].languages?.[0].lang).toBe("en");
  });

  it("detectLanguage and groupByLanguage work on any text", async () => {
    expect((await detectLanguage("Все люди рождаются свободными и равными")).lang).toBe("ru");
    expect((await detectLanguage("すべての人間は、生まれながらにして自由")).lang).toBe("ja");
    const rtl = await detectLanguage("يولد جميع الناس أحراراً متساوين في الكرامة والحقوق");
    expect([rtl.lang, rtl.dir]).toEqual(["ar", "rtl"]);
    const groups = await groupByLanguage(["宫保鸡丁 ¥38", "Kung Pao Chicken $5.2", "麻婆豆腐 ¥26", "Mapo Tofu $3.6"]);
    expect(groups.map((g) => [g.lang, g.lines])).toEqual([
      ["zh-Hans", [0, 2]],
      ["en", [1, 3]],
    ]);
  });
});
