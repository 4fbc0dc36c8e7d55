/**
 * Language detection accuracy on ../shared/eval/multilingual, run through the library's own
 * functions on the ground-truth text (gt/*.txt, one line per newline).
 *
 *   npx tsx scripts/lang-eval.ts               # the default detector: page sets and line accuracy
 *   npx tsx scripts/lang-eval.ts --verbose     # every page's found set and every wrong line
 *   npx tsx scripts/lang-eval.ts --compare     # the same figures for each installed n-gram detector
 *   npx tsx scripts/lang-eval.ts --strict      # exit 1 below the acceptance figures (90% pages, 95% lines)
 *   npx tsx scripts/lang-eval.ts --wrap 30     # robustness: re-wrap ground-truth lines to 30 characters, as visual lines
 *
 * Page set: the languages found on a page (`und` ignored, zh-Hans/zh-Hant counted as the manifest's
 * primary tag `zh`) must equal the manifest's `languages`; "bcp47" compares full tags with `bcp47`.
 * Line accuracy: lines with 5 letters or more. On a one-language page the expected language is the
 * page's. On a page with several, the line's own scripts say which of the page's languages it can
 * be: kana → ja, Hangul → ko, Han without kana → the page's Chinese (else ja), Latin → the page's
 * Latin-script language, and so on; a line mixing scripts (a bilingual sign line) is right when it
 * gets any language of its scripts. Primary tags are compared; the bcp47 figure compares full tags.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { LanguageDetector } from "../src/language/detect.js";
import { loadDefaultBackend, reliableLead, type NgramBackend, type Ranked } from "../src/language/backend.js";
import { primaryTag } from "../src/language/names.js";
import { malayOrIndonesian } from "../src/language/rules.js";
import { scriptOf } from "../src/language/scripts.js";
import { readManifest, type ManifestEntry as Entry } from "./lib/manifest.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const { values } = parseArgs({
  options: {
    data: { type: "string", default: path.resolve(root, "../shared/eval/multilingual") },
    verbose: { type: "boolean", default: false },
    compare: { type: "boolean", default: false },
    strict: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    wrap: { type: "string" },
  },
});

interface Figures {
  detector: string;
  pages: number;
  pageSetHits: number;
  bcp47Hits: number;
  lines: number;
  lineHits: number;
  lineBcp47Hits: number;
  loadMs: number;
  detectMs: number;
  failures: string[];
}

const LETTER = /\p{L}/gu;

const manifest = readManifest(values.data);
const wrapAt = values.wrap ? Number(values.wrap) : 0;
const pages = manifest.map((e) => {
  const lines = readFileSync(path.join(values.data, e.gt_file), "utf8").split(/\r?\n/);
  return { entry: e, lines: wrapAt > 0 ? lines.flatMap((l) => wrap(l, wrapAt)) : lines };
});

/** Cuts a line into pieces of at most `width` code points, at a space when there is one. */
function wrap(line: string, width: number): string[] {
  const out: string[] = [];
  let rest = [...line];
  while (rest.length > width) {
    const space = rest.slice(0, width + 1).lastIndexOf(" ");
    const cut = space > width / 2 ? space : width;
    out.push(rest.slice(0, cut).join("").trim());
    rest = rest.slice(cut);
  }
  out.push(rest.join("").trim());
  return out;
}

/** The languages a line may be in, judged by its scripts against the page's languages. */
function expectedFor(line: string, page: Entry): Set<string> {
  if (page.bcp47.length === 1) return new Set(page.bcp47);
  const scripts = new Set<string>();
  for (const char of line) {
    const s = scriptOf(char);
    if (s !== "Zyyy") scripts.add(s);
  }
  const kana = scripts.has("Hira") || scripts.has("Kana");
  const of = (script: string) => page.bcp47.filter((l) => langScripts(l).includes(script));
  const out = new Set<string>();
  for (const s of scripts) {
    if (s === "Hani") {
      const chinese = page.bcp47.filter((l) => primaryTag(l) === "zh");
      for (const l of kana || !chinese.length ? of("Hani").filter((x) => x === "ja") : chinese) out.add(l);
    } else if (s === "Hira" || s === "Kana") out.add("ja");
    else for (const l of of(s)) out.add(l);
  }
  return out;
}

function langScripts(lang: string): string[] {
  const p = primaryTag(lang);
  if (p === "ja") return ["Hani", "Hira", "Kana"];
  if (p === "zh") return ["Hani"];
  if (p === "ko") return ["Hang", "Hani"];
  if (["ru", "uk", "bg", "be", "sr", "mk", "kk"].includes(p)) return ["Cyrl"];
  if (["ar", "fa", "ur"].includes(p)) return ["Arab"];
  if (["hi", "mr", "ne"].includes(p)) return ["Deva"];
  if (p === "th") return ["Thai"];
  if (p === "he") return ["Hebr"];
  return ["Latn"];
}

function evaluate(name: string, detector: LanguageDetector, loadMs: number): Figures {
  const f: Figures = { detector: name, pages: 0, pageSetHits: 0, bcp47Hits: 0, lines: 0, lineHits: 0, lineBcp47Hits: 0, loadMs, detectMs: 0, failures: [] };
  for (const { entry, lines } of pages) {
    const started = performance.now();
    const result = detector.detectLines(lines);
    f.detectMs += performance.now() - started;
    const found = new Set<string>();
    const foundFull = new Set<string>();
    for (const r of result) {
      const langs = r.segments ? r.segments.map((s) => s.lang) : [r.lang];
      for (const l of langs) {
        if (l === "und") continue;
        found.add(primaryTag(l));
        foundFull.add(l);
      }
    }
    f.pages++;
    const setOk = sameSet(found, new Set(entry.languages));
    const fullOk = sameSet(foundFull, new Set(entry.bcp47));
    if (setOk) f.pageSetHits++;
    if (fullOk) f.bcp47Hits++;
    if (!setOk || !fullOk) f.failures.push(`page ${entry.id}: found [${[...foundFull].join(", ")}], manifest [${entry.bcp47.join(", ")}]`);
    lines.forEach((line, i) => {
      if ((line.match(LETTER)?.length ?? 0) < 5) return;
      const expected = expectedFor(line, entry);
      const got = result[i].lang;
      f.lines++;
      const primaryOk = [...expected].some((e) => primaryTag(e) === primaryTag(got));
      if (primaryOk) f.lineHits++;
      if (expected.has(got)) f.lineBcp47Hits++;
      if (!expected.has(got)) f.failures.push(`  line ${entry.id}:${i + 1} got ${got} (${result[i].by}), expected ${[...expected].join("|")}: ${line.slice(0, 60)}`);
    });
  }
  return f;
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

function pct(n: number, d: number): string {
  return d ? `${((100 * n) / d).toFixed(1)}%` : "n/a";
}

// ---- other detectors, for --compare only (each is skipped when its package is not installed) ----

interface EldLike {
  detect(text: string): { getScores(): Record<string, number> };
  info(): { Languages: Record<number, string> };
}

async function eldBackend(size: string): Promise<NgramBackend> {
  const module = (await import(`eld/${size}`)) as { eld: EldLike };
  const eld = module.eld;
  return {
    name: `eld/${size}`,
    languages: new Set(Object.values(eld.info().Languages)),
    rank(text, only) {
      const scores = eld.detect(text).getScores();
      if (scores.ms !== undefined && scores.id === undefined && malayOrIndonesian(text) === "id") {
        scores.id = scores.ms;
        delete scores.ms;
      }
      return only.filter((l) => scores[l] !== undefined).map((lang) => ({ lang, score: scores[lang] })).sort((a, b) => b.score - a.score);
    },
    reliable: reliableLead,
  };
}

// franc speaks ISO 639-3; these are the codes of the candidates the letter rules leave to a detector.
// prettier-ignore
const ISO3: Record<string, string> = {
  en: "eng", fr: "fra", de: "deu", es: "spa", pt: "por", it: "ita", nl: "nld", ca: "cat", eu: "eus", ro: "ron", pl: "pol",
  cs: "ces", sk: "slk", sl: "slv", hr: "hrv", hu: "hun", fi: "fin", et: "est", lv: "lvs", lt: "lit", sv: "swe", da: "dan",
  no: "nob", is: "isl", sq: "als", tr: "tur", az: "azj", vi: "vie", id: "ind", ms: "zlm", tl: "tgl", yo: "yor", ga: "gle",
  cy: "cym", af: "afr", sw: "swh", uz: "uzn", ha: "hau", la: "lat", ru: "rus", uk: "ukr", be: "bel", bg: "bul", sr: "srp",
  mk: "mkd", kk: "kaz", ky: "kir", mn: "khk", tg: "tgk", ar: "arb", fa: "pes", ur: "urd", ps: "pbu", ckb: "ckb", ug: "uig",
  hi: "hin", mr: "mar", ne: "npi", he: "heb", yi: "ydd",
};

async function francBackend(): Promise<NgramBackend> {
  // Not a dependency any more (eld won the comparison): install it to re-run the comparison.
  const specifier: string = "franc";
  const { francAll } = (await import(specifier)) as { francAll: (text: string, o: { only: string[]; minLength: number }) => Array<[string, number]> };
  const back = new Map(Object.entries(ISO3).map(([k, v]) => [v, k]));
  return {
    name: "franc",
    languages: new Set(Object.keys(ISO3)),
    rank(text, only) {
      const codes = only.map((l) => ISO3[l]).filter(Boolean);
      return francAll(text, { only: codes, minLength: 1 })
        .filter(([code]) => code !== "und" && back.has(code))
        .map(([code, score]): Ranked => ({ lang: back.get(code)!, score }));
    },
    // franc scores the best as 1 and the others relative to it: the lead is 1 - second.
    reliable: reliableLead,
  };
}

async function tinyldBackend(variant: string): Promise<NgramBackend> {
  const module = (await import(variant === "normal" ? "tinyld" : `tinyld/${variant}`)) as {
    detectAll: (text: string, o: { only: string[] }) => Array<{ lang: string; accuracy: number }>;
    supportedLanguages: string[];
  };
  return {
    name: variant === "normal" ? "tinyld" : `tinyld/${variant}`,
    languages: new Set(module.supportedLanguages),
    rank(text, only) {
      return module.detectAll(text, { only: [...only] }).map((r) => ({ lang: r.lang, score: r.accuracy }));
    },
    reliable: reliableLead,
  };
}

async function timed(load: () => Promise<NgramBackend | undefined>): Promise<{ backend?: NgramBackend; ms: number; error?: string }> {
  const started = performance.now();
  try {
    const backend = await load();
    return { backend, ms: performance.now() - started };
  } catch (err) {
    return { ms: 0, error: err instanceof Error ? err.message.split("\n")[0] : String(err) };
  }
}

async function main(): Promise<void> {
  const results: Figures[] = [];
  if (values.compare) {
    // Each detector loads in a fresh state only once per process: measure the default first.
    const candidates: Array<[string, () => Promise<NgramBackend | undefined>]> = [
      ["rules only (no n-gram detector)", async () => undefined],
      ["eld/extrasmall", () => eldBackend("extrasmall")],
      ["eld/small", () => eldBackend("small")],
      ["eld/medium", () => eldBackend("medium")],
      ["eld/large", () => eldBackend("large")],
      ["franc", francBackend],
      ["tinyld/light", () => tinyldBackend("light")],
      ["tinyld", () => tinyldBackend("normal")],
      ["tinyld/heavy", () => tinyldBackend("heavy")],
    ];
    for (const [name, load] of candidates) {
      const { backend, ms, error } = await timed(load);
      if (error) {
        console.log(`${name}: not available (${error})`);
        continue;
      }
      results.push(evaluate(name, new LanguageDetector(backend), ms));
    }
  } else {
    const { backend, ms } = await timed(loadDefaultBackend);
    results.push(evaluate(`${backend?.name ?? "?"} (default)`, new LanguageDetector(backend), ms));
  }

  if (values.json) {
    console.log(JSON.stringify(results.map(({ failures: _f, ...r }) => r), null, 2));
  } else {
    console.log(`multilingual: ${pages.length} pages, language detection on the ground-truth text`);
    console.log(["detector".padEnd(32), "page set", "bcp47 set", "lines>=5", "lines bcp47", "load ms", "detect ms"].join("  "));
    for (const r of results) {
      console.log(
        [
          r.detector.padEnd(32),
          `${pct(r.pageSetHits, r.pages)} (${r.pageSetHits}/${r.pages})`.padEnd(8),
          pct(r.bcp47Hits, r.pages).padEnd(9),
          `${pct(r.lineHits, r.lines)} (${r.lineHits}/${r.lines})`.padEnd(8),
          pct(r.lineBcp47Hits, r.lines).padEnd(11),
          r.loadMs.toFixed(0).padStart(7),
          r.detectMs.toFixed(0).padStart(9),
        ].join("  "),
      );
      if (values.verbose) for (const line of r.failures) console.log(`  ${line}`);
    }
  }
  const main = results[0];
  if (values.strict && main && (main.pageSetHits / main.pages < 0.9 || main.lineHits / main.lines < 0.95)) process.exit(1);
}

await main();
