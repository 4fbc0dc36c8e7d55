import { describe, expect, it } from "vitest";
import { loadCompactEld, ngramView, parseNgramSource } from "../src/language/eld-table.js";

interface EldData {
  type: string;
  languages: Record<number, string>;
  ngrams: Record<string, Record<number, number>>;
}

describe("ELD's n-gram table read as text", () => {
  it("holds exactly what evaluating ELD's medium table gives, n-gram by n-gram", async () => {
    const file = new URL("../ngrams/medium.js", import.meta.resolve("eld"));
    const { readFile } = await import("node:fs/promises");
    const table = parseNgramSource(await readFile(file, "utf8"));
    const { ngramsData } = (await import(file.href)) as { ngramsData: EldData };

    expect(table.type).toBe(ngramsData.type);
    expect(table.languages).toEqual(ngramsData.languages);
    const keys = Object.keys(ngramsData.ngrams);
    expect(table.rows.size).toBe(keys.length);
    const view = ngramView(table);
    let differing = 0;
    for (const key of keys) {
      if (JSON.stringify(view[key]) !== JSON.stringify(ngramsData.ngrams[key])) differing++;
    }
    expect(differing).toBe(0);
    expect(view["not an n-gram"]).toBeUndefined();
  });

  it("ELD's detector scores every script the same on the compact table as on its own", async () => {
    const { eld } = (await import("eld/medium")) as { eld: Awaited<ReturnType<typeof loadCompactEld>> };
    const compact = await loadCompactEld("medium");
    const texts = [
      "Universal Declaration of Human Rights",
      "La Declaración Universal de los Derechos Humanos",
      "Всеобщая декларация прав человека",
      "Загальна декларація прав людини",
      "人人有权离开任何国家，包括其本国在内",
      "すべての人は、単独で又は他の者と共同して財産を所有する権利を有する。",
      "모든 사람은 교육을 받을 권리를 가진다",
      "لكل شخص الحق في التعليم",
      "Cộng hòa xã hội chủ nghĩa Việt Nam",
      "สวัสดีครับ ยินดีต้อนรับ",
      "Tel (503) 555-0142 GREENLEAF MARKET",
      "",
    ];
    for (const text of texts) expect(compact.detect(text).getScores(), text).toEqual(eld.detect(text).getScores());
    expect(compact.detect("Всеобщая декларация прав человека").language).toBe("ru");
  });

  it("reads quoted keys with escapes and bare keys, and names the offset of what it cannot read", () => {
    const source = `export const ngramsData = {type:'T2',languages:{0:'en',1:'de'},ngrams:{' ab':{0:12,1:7},"it's ":{1:200},'a\\'b':{0:1},xy_z:{1:3}}}`;
    const table = parseNgramSource(source);
    expect(table.type).toBe("T2");
    expect(table.languages).toEqual({ 0: "en", 1: "de" });
    const view = ngramView(table);
    expect(view[" ab"]).toEqual({ 0: 12, 1: 7 });
    expect(view["it's "]).toEqual({ 1: 200 });
    expect(view["a'b"]).toEqual({ 0: 1 });
    expect(view["xy_z"]).toEqual({ 1: 3 });
    expect(() => parseNgramSource(source.replace("{0:12", "{0:x12"))).toThrow(/expected a number up to 255 at offset \d+/);
    expect(() => parseNgramSource(source.replace("200", "300"))).toThrow(/up to 255/);
    expect(() => parseNgramSource("export const x = 1")).toThrow(/no type/);
  });
});
