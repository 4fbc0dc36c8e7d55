import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  annotate,
  detectLanguage,
  groupByLanguage,
  languageName,
  loadLanguageDetector,
  renderGroupsMarkdown,
  type LanguageDetector,
} from "../src/language/index.js";
import { compatibleVariants, hanEvidence } from "../src/language/han.js";

let detector: LanguageDetector;
beforeAll(async () => {
  detector = await loadLanguageDetector();
});

const langs = (lines: string[]) => detector.detectLines(lines).map((r) => r.lang);

describe("right-to-left scripts", () => {
  const arabic = "لكل شخص الحق في التعليم، ويجب أن يكون التعليم في مراحله الأولى والأساسية على الأقل بالمجان";
  const hebrew = "כל בני האדם נולדו בני חורין ושווים בערכם ובזכויותיהם";

  it("Arabic and Hebrew lines get ar / he and dir rtl, and their text stays in logical order", async () => {
    const lines = ["المادة 26", arabic, hebrew, "Article 26"];
    const record = await annotate({ text: lines.join("\n"), lines: lines.map((text) => ({ text })) });
    expect(record.lines.map((l) => [l.lang, l.dir])).toEqual([
      ["ar", "rtl"],
      ["ar", "rtl"],
      ["he", "rtl"],
      ["en", undefined],
    ]);
    // Logical order: the text is what came in, first letter first (no visual reordering).
    expect(record.lines[1].text).toBe(arabic);
    expect([...record.lines[1].text][0]).toBe("ل");
    const [ar, he, en] = record.languages;
    expect(ar).toMatchObject({ lang: "ar", dir: "rtl", script: "Arab", lines: [0, 1], text: `المادة 26\n${arabic}` });
    expect(he).toMatchObject({ lang: "he", dir: "rtl", script: "Hebr", text: hebrew });
    expect(en).toMatchObject({ lang: "en", dir: "ltr" });
  });

  it("Arabic script: Persian and Urdu by their letters", () => {
    expect(langs(["این یک متن فارسی است که برای آزمایش نوشته شده است"])).toEqual(["fa"]);
    expect(langs(["یہ ایک اردو جملہ ہے جو جانچ کے لیے لکھا گیا ہے"])).toEqual(["ur"]);
    expect(detector.detectLines(["یہ ایک اردو جملہ ہے"])[0].dir).toBe("rtl");
  });

  it("Markdown sections of right-to-left groups are marked dir=rtl", async () => {
    const groups = await groupByLanguage([arabic, "Universal Declaration of Human Rights"]);
    const md = renderGroupsMarkdown(groups);
    expect(md).toContain(`## العربية (Arabic)\n\n<div dir="rtl">\n\n${arabic}\n\n</div>`);
    expect(md).toContain("## English\n\nUniversal Declaration of Human Rights");
  });
});

describe("Han-only lines: Simplified, Traditional or Japanese", () => {
  it("characters decide when they can", () => {
    expect(langs(["人人有权离开任何国家，包括其本国在内"])).toEqual(["zh-Hans"]);
    expect(langs(["人人有權享有和平集會和結社的自由"])).toEqual(["zh-Hant"]);
    expect(langs(["品目 数量 単価 金額"])).toEqual(["ja"]);
    expect(detector.detectLines(["世界人权宣言"])[0]).toMatchObject({ lang: "zh-Hans", script: "Hans", by: "letters" });
  });

  it("characters all three share (和, 真, 的) decide nothing", () => {
    expect(compatibleVariants(hanEvidence("和真的同意"))).toEqual(["zh-Hans", "zh-Hant", "ja"]);
    expect(compatibleVariants(hanEvidence("这"))).toEqual(["zh-Hans"]);
    expect(compatibleVariants(hanEvidence("這"))).toEqual(["zh-Hant", "ja"]);
    expect(compatibleVariants(hanEvidence("国"))).toEqual(["zh-Hans", "ja"]);
    expect(compatibleVariants(hanEvidence("國"))).toEqual(["zh-Hant"]);
    expect(compatibleVariants(hanEvidence("円"))).toEqual(["ja"]);
  });

  it("shared characters take the variant of their page: kana neighbours make them Japanese", () => {
    // 請求書 and 小計 are written the same in Traditional Chinese and Japanese.
    expect(langs(["請求書", "株式会社さくら商事 御中", "小計 67,500", "お支払期限：2024年8月31日"])).toEqual(["ja", "ja", "ja", "ja"]);
    expect(langs(["第17条", "すべての人は、単独で又は他の者と共同して財産を所有する権利を有する。"])).toEqual(["ja", "ja"]);
  });

  it("without kana, the same characters are Chinese, of the variant the page shows", () => {
    expect(langs(["茶葉蛋 x2  20", "合計  80", "現金  100", "謝謝光臨"])).toEqual(["zh-Hant", "zh-Hant", "zh-Hant", "zh-Hant"]);
    expect(langs(["第十三条", "人人在各国境内有权自由迁徙和居住。"])).toEqual(["zh-Hans", "zh-Hans"]);
  });

  it("on a page with Chinese and Japanese, a shared Han-only line goes with the Han-only lines", () => {
    const menu = ["水煮鱼　¥58", "水煮魚（スイジューユィ）", "担担面　¥18", "担々麺（タンタンメン）", "锅贴（8个）　¥20"];
    expect(langs(menu)).toEqual(["zh-Hans", "ja", "zh-Hans", "ja", "zh-Hans"]);
  });
});

describe("short lines and numbers", () => {
  it("short lines take their neighbours' language instead of a guess", () => {
    const fr = ["Article 13", "Toute personne a le droit de circuler librement et de choisir sa résidence à l'intérieur d'un État."];
    expect(langs(fr)).toEqual(["fr", "fr"]);
    // "x2" and "ml" are Latin letters, but too few to be a language.
    expect(langs(["豆漿 400ml x1", "x2", "謝謝光臨"])).toEqual(["zh-Hant", "zh-Hant", "zh-Hant"]);
    expect(langs(["Пельмени сибирские 1 390,00", "Сдача 110,00", "Спасибо за покупку!"])).toEqual(["ru", "ru", "ru"]);
    expect(langs(["Стаття 26.", "Кожна людина має право на освіту. Освіта повинна бути безплатною."])).toEqual(["uk", "uk"]);
  });

  it("a short Latin line among lines of other scripts is judged with the page's other Latin lines", () => {
    const page = ["川味小馆", "Sichuan Corner", "四川料理の店", "鱼香肉丝　¥32", "Yu-Shiang Shredded Pork　$4.5", "Boiled Fish in Chili Oil　$8.1"];
    expect(langs(page)[1]).toBe("en");
  });

  it("digit- and punctuation-only lines are und and stay with their block", async () => {
    const lines = ["한솔 베이커리 (홍대점)", "2024-06-12 08:31", "크루아상  2  7,000", "Sichuan Corner Restaurant and Noodle Bar", "$ 12.50"];
    const detected = detector.detectLines(lines);
    expect(detected[1]).toMatchObject({ lang: "und", script: "Zyyy", confidence: 0 });
    const groups = await groupByLanguage(lines);
    expect(groups.map((g) => [g.lang, g.lines])).toEqual([
      ["ko", [0, 1, 2]],
      ["en", [3, 4]],
    ]);
    // A page that opens with numbers: they join the first group with letters.
    const opening = await groupByLanguage(["18.01.2024 13:22", "Кассовый чек № 0458"]);
    expect(opening).toMatchObject([{ lang: "ru", lines: [0, 1], text: "18.01.2024 13:22\nКассовый чек № 0458" }]);
  });
});

describe("scripts and letters", () => {
  it("one-language scripts, Cyrillic letters, Vietnamese marks, Devanagari words", () => {
    expect(langs(["모든 사람은 의견의 자유와 표현의 자유에 대한 권리를 가진다."])).toEqual(["ko"]);
    expect(langs(["ทุกคนมีสิทธิในการพักผ่อนและเวลาว่าง"])).toEqual(["th"]);
    expect(langs(["Кожна людина має право на освіту"])).toEqual(["uk"]);
    expect(langs(["Каждый человек имеет право на образование"])).toEqual(["ru"]);
    // No letter tells Bulgarian from Russian: the detector does, on enough text.
    expect(langs(["Член 13", "Всеки човек има право свободно да се придвижва и да избира местоживеенето си в пределите на всяка държава."])).toEqual(["bg", "bg"]);
    expect(langs(["Mọi người đều có quyền tự do đi lại và cư trú"])).toEqual(["vi"]);
    expect(langs(["मानव अधिकारों की सार्वभौम घोषणा"])).toEqual(["hi"]);
    expect(langs(["Alle Menschen sind frei und gleich an Würde und Rechten geboren."])).toEqual(["de"]);
    expect(langs(["Setiap orang berhak atas kebebasan pikiran, hati nurani dan agama"])).toEqual(["id"]);
  });

  it("a line in several scripts split at a separator is in each language's group", async () => {
    const line = "今日推荐 · Today's Specials · 本日のおすすめ";
    const [result] = detector.detectLines([line]);
    expect(result.segments?.map((s) => [s.text, s.lang])).toEqual([
      ["今日推荐", "zh-Hans"],
      ["Today's Specials", "en"],
      ["本日のおすすめ", "ja"],
    ]);
    const groups = await groupByLanguage([line]);
    expect(groups.map((g) => [g.lang, g.text, g.lines])).toEqual([
      ["zh-Hans", "今日推荐", [0]],
      ["en", "Today's Specials", [0]],
      ["ja", "本日のおすすめ", [0]],
    ]);
  });

  it("detectLanguage judges one line, with neighbours as context", async () => {
    expect(await detectLanguage("The quick brown fox jumps over the lazy dog")).toMatchObject({ lang: "en", script: "Latn", dir: "ltr" });
    expect((await detectLanguage("合計")).lang).toBe("zh-Hant");
    expect((await detectLanguage("合計", { before: ["お支払期限：2024年8月31日"] })).lang).toBe("ja");
    const r = await detectLanguage("12,500");
    expect(r).toEqual({ lang: "und", script: "Zyyy", confidence: 0, dir: "ltr", by: "none" });
  });
});

describe("grouping, names and records", () => {
  it("groups come in order of first appearance, named native (English) or English", async () => {
    const lines = ["川味小馆", "Sichuan Corner", "四川料理の店", "回锅肉　¥36", "Twice-Cooked Pork　$5.0", "回鍋肉（ホイコーロー）"];
    const groups = await groupByLanguage(lines);
    expect(groups.map((g) => [g.lang, g.name, g.script, g.lines])).toEqual([
      ["zh-Hans", "简体中文 (Simplified Chinese)", "Hans", [0, 3]],
      ["en", "English", "Latn", [1, 4]],
      ["ja", "日本語 (Japanese)", "Jpan", [2, 5]],
    ]);
    expect((await groupByLanguage(lines, { names: "english" })).map((g) => g.name)).toEqual(["Simplified Chinese", "English", "Japanese"]);
    expect(languageName("zh", "native")).toBe("中文 (Chinese)");
  });

  it("annotate adds lang per line and languages per page, and leaves error records alone", async () => {
    const record = { source: "a.png", page: 1, text: "ポイ捨て禁止！\nNO LITTER", lines: [{ text: "ポイ捨て禁止！", confidence: 0.9 }, { text: "NO LITTER" }] };
    const out = await annotate(record);
    expect(out.lines).toEqual([
      { text: "ポイ捨て禁止！", confidence: 0.9, lang: "ja" },
      { text: "NO LITTER", lang: "en" },
    ]);
    expect(out.languages.map((g) => g.lang)).toEqual(["ja", "en"]);
    expect(record.lines[0]).not.toHaveProperty("lang");
    // A generative engine's free text without lines: grouped by the text's lines.
    const free = await annotate({ text: "Кафе «Пельменная №1»\n18.01.2024", lines: [] });
    expect(free.languages).toMatchObject([{ lang: "ru", lines: [0, 1] }]);
    const failed = await annotate({ text: "", lines: [], error: { code: "corrupt", message: "x" } });
    expect(failed.languages).toEqual([]);
  });
});

describe("lazy loading", () => {
  it("the n-gram detector is imported only dynamically", () => {
    const dir = path.join(import.meta.dirname, "../src/language");
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".ts"))) {
      const source = readFileSync(path.join(dir, file), "utf8");
      expect(source, file).not.toMatch(/^import[^;]*from\s+["'](eld|franc|tinyld)/m);
    }
  });
});
