/**
 * `npm run eval`: accuracy of an engine on ../shared/eval, scored with the conventions of its README.
 *
 *   npm run eval                       # ppocr on every set
 *   npm run eval -- --engine qwen --sets sroie --verbose
 *   npm run eval -- --sets sroie --option padX=0.3   # an engine setting (number, boolean or string)
 *
 * Sets: tesseract (4 upright pages + 3 rotated copies), sroie (40 receipts; key-field hits),
 * multilingual (the pages whose languages ppocr can read: zh and en), and languages: language
 * detection through the library on the multilingual set's ground-truth text (scripts/lang-eval.ts:
 * the page's set of languages, and line accuracy on lines of 5 letters or more), engine-independent.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
// The built library (dist/, what users run): its timings are those of a real run.
import { getEngineFactory, parsePageSelection, scan, type Engine, type PageRecord } from "../dist/index.js";
import { readManifest } from "./lib/manifest.js";
import { bowF1, cer, sroieKeyHits, type SroieKey } from "./lib/score.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

interface Case {
  set: string;
  group: string;
  id: string;
  file: string;
  page?: number;
  truth: string;
  ignoreWhitespace: boolean;
  key?: SroieKey;
}

interface Scored {
  c: Case;
  text: string;
  seconds: number;
  edits: number;
  refLength: number;
  f1: number;
  keyHits?: Record<string, boolean>;
  error?: string;
}

const { values } = parseArgs({
  options: {
    engine: { type: "string", default: "ppocr" },
    sets: { type: "string", default: "tesseract,sroie,multilingual,languages" },
    data: { type: "string", default: path.resolve(root, "../shared/eval") },
    model: { type: "string" },
    verbose: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    option: { type: "string", multiple: true, default: [] },
  },
});

/** `--option key=value` pairs as engine options: numbers and booleans are typed, the rest strings. */
function engineOptions(pairs: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq < 1) throw new Error(`--option ${pair}: expected key=value`);
    const raw = pair.slice(eq + 1);
    out[pair.slice(0, eq)] = raw === "true" ? true : raw === "false" ? false : raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}

function tesseractCases(dir: string): Case[] {
  const upright = ["eurotext.tif", "phototest.tif", "8071_093.3B.tif", "8087_054.3B.tif"];
  const rotated = ["phototest-rotated-180.png", "phototest-rotated-L.png", "phototest-rotated-R.png"];
  const read = (name: string) => readFileSync(path.join(dir, name), "utf8");
  return [
    ...upright.map((f) => ({ set: "tesseract", group: "upright", id: f, file: path.join(dir, f), truth: read(f.replace(/\.tif$/, ".txt")), ignoreWhitespace: false })),
    ...rotated.map((f) => ({ set: "tesseract", group: "rotated", id: f, file: path.join(dir, f), truth: read("phototest.txt"), ignoreWhitespace: false })),
  ];
}

/** SROIE box files: eight coordinates, then the text (which may itself contain commas). */
function sroieTruth(csv: string): string {
  return csv
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((l) => l.split(",").slice(8).join(","))
    .join("\n");
}

function sroieCases(dir: string): Case[] {
  return readdirSync(path.join(dir, "img"))
    .filter((f) => /\.(jpe?g|png)$/i.test(f))
    .sort()
    .map((f) => {
      const id = f.replace(/\.[^.]+$/, "");
      return {
        set: "sroie",
        group: "receipts",
        id,
        file: path.join(dir, "img", f),
        truth: sroieTruth(readFileSync(path.join(dir, "box", `${id}.csv`), "utf8")),
        ignoreWhitespace: false,
        key: JSON.parse(readFileSync(path.join(dir, "key", `${id}.json`), "utf8")) as SroieKey,
      };
    });
}

/** The pages ppocr's dictionary covers: Chinese and English only. */
function multilingualCases(dir: string, languages: Set<string> | null): Case[] {
  return readManifest(dir)
    .filter((e) => !languages || e.languages.every((l) => languages.has(l)))
    .map((e) => ({
      set: "multilingual",
      group: e.languages.join("+"),
      id: e.id,
      file: path.join(dir, e.file),
      page: e.page,
      truth: readFileSync(path.join(dir, e.gt_file), "utf8"),
      ignoreWhitespace: e.languages.some((l) => ["zh", "ja", "th"].includes(l)),
    }));
}

async function run(engine: Engine, c: Case): Promise<Scored> {
  const started = performance.now();
  const records: PageRecord[] = [];
  for await (const r of scan([c.file], { engine, pages: c.page ? parsePageSelection(String(c.page)) : undefined })) records.push(r);
  const seconds = (performance.now() - started) / 1000;
  const error = records.find((r) => r.error)?.error?.message;
  const text = records.map((r) => r.text).join("\n");
  const score = cer(text, c.truth, { ignoreWhitespace: c.ignoreWhitespace });
  return {
    c,
    text,
    seconds,
    edits: score.edits,
    refLength: score.refLength,
    f1: bowF1(text, c.truth),
    keyHits: c.key ? sroieKeyHits(text, c.key) : undefined,
    error,
  };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function summarize(label: string, rows: Scored[]) {
  const edits = rows.reduce((a, r) => a + r.edits, 0);
  const ref = rows.reduce((a, r) => a + r.refLength, 0);
  const keyRows = rows.filter((r) => r.keyHits);
  const hits = keyRows.flatMap((r) => Object.values(r.keyHits!));
  return {
    label,
    pages: rows.length,
    cer: edits / Math.max(ref, 1),
    medianPageCer: median(rows.map((r) => r.edits / Math.max(r.refLength, 1))),
    f1: rows.reduce((a, r) => a + r.f1, 0) / rows.length,
    keyHitRate: hits.length ? hits.filter(Boolean).length / hits.length : undefined,
    keyHits: hits.length ? `${hits.filter(Boolean).length}/${hits.length}` : undefined,
    medianSeconds: median(rows.map((r) => r.seconds)),
    errors: rows.filter((r) => r.error).length,
  };
}

interface LanguageFigures {
  detector: string;
  pages: number;
  pageSetHits: number;
  lines: number;
  lineHits: number;
}

/** The language-detection figures, from scripts/lang-eval.ts in its own process (it has its own flags). */
function languageFigures(data: string): LanguageFigures {
  const script = path.join(root, "scripts/lang-eval.ts");
  const run = spawnSync(process.execPath, ["--import", "tsx", script, "--json", "--data", path.join(data, "multilingual")], { cwd: root, encoding: "utf8" });
  if (run.status !== 0) throw new Error(`lang-eval failed: ${run.stderr.slice(-2000)}`);
  return (JSON.parse(run.stdout) as LanguageFigures[])[0]!;
}

async function main() {
  const data = values.data!;
  if (!existsSync(data)) {
    console.error(`eval: no evaluation data at ${data} (pass --data DIR)`);
    process.exit(2);
  }
  const sets = new Set(values.sets!.split(","));
  const zhEn = values.engine === "ppocr" ? new Set(["zh", "en"]) : null;
  const cases = [
    ...(sets.has("tesseract") ? tesseractCases(path.join(data, "tesseract-test")) : []),
    ...(sets.has("sroie") ? sroieCases(path.join(data, "sroie")) : []),
    ...(sets.has("multilingual") ? multilingualCases(path.join(data, "multilingual"), zhEn) : []),
  ];

  const languages = sets.has("languages") ? languageSummary(languageFigures(data)) : undefined;
  if (!cases.length) {
    if (values.json) console.log(JSON.stringify({ languages }, null, 2));
    else if (languages) printLanguages(languages);
    return;
  }

  const factory = await getEngineFactory(values.engine!);
  const engine = await factory.load({ ...engineOptions(values.option!), model: values.model });
  const scored: Scored[] = [];
  try {
    for (const c of cases) {
      const s = await run(engine, c);
      scored.push(s);
      if (values.verbose) {
        const keys = s.keyHits ? ` keys ${Object.values(s.keyHits).filter(Boolean).length}/4` : "";
        console.error(`${c.set}/${c.id}: CER ${pct(s.edits / Math.max(s.refLength, 1))} F1 ${pct(s.f1)}${keys} ${s.seconds.toFixed(2)} s${s.error ? ` ERROR ${s.error}` : ""}`);
      }
    }
  } finally {
    await engine.close();
  }

  const groups = new Map<string, Scored[]>();
  for (const s of scored) {
    const key = s.c.set === "tesseract" ? `tesseract-test (${s.c.group})` : s.c.set === "sroie" ? "sroie" : `multilingual (${zhEn ? "zh/en pages" : "all"})`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  const rows = [...groups].map(([label, rs]) => summarize(label, rs));
  if (values.json) {
    console.log(JSON.stringify({ engine: engine.info, rows, languages, pages: scored.map((s) => ({ id: `${s.c.set}/${s.c.id}`, cer: s.edits / Math.max(s.refLength, 1), f1: s.f1, keyHits: s.keyHits, seconds: s.seconds })) }, null, 2));
    return;
  }
  console.log(`engine: ${engine.info.engine} (${engine.info.model})\n`);
  console.log("| set | pages | CER | median page CER | BoW-F1 | key fields | median s/page |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    const keys = r.keyHitRate === undefined ? "" : `${pct(r.keyHitRate)} (${r.keyHits})`;
    console.log(`| ${r.label} | ${r.pages} | ${pct(r.cer)} | ${pct(r.medianPageCer)} | ${pct(r.f1)} | ${keys} | ${r.medianSeconds.toFixed(2)} |`);
  }
  const rotated = scored.filter((s) => s.c.group === "rotated");
  if (rotated.length) console.log(`\nrotated pages: ${rotated.map((s) => `${s.c.id} ${pct(s.edits / Math.max(s.refLength, 1))}`).join(", ")}`);
  const failed = scored.filter((s) => s.error);
  if (failed.length) console.log(`\nerrors: ${failed.map((s) => `${s.c.id}: ${s.error}`).join("; ")}`);
  if (languages) printLanguages(languages);
}

type LanguageSummary = ReturnType<typeof languageSummary>;

function languageSummary(f: LanguageFigures) {
  return {
    detector: f.detector,
    pages: f.pages,
    pageSetRate: f.pageSetHits / f.pages,
    pageSets: `${f.pageSetHits}/${f.pages}`,
    lineRate: f.lineHits / f.lines,
    lineHits: `${f.lineHits}/${f.lines}`,
  };
}

function printLanguages(r: LanguageSummary) {
  console.log(`\nlanguage detection (${r.detector}) on the multilingual ground truth, ${r.pages} pages:`);
  console.log(`- page's set of languages equals the manifest's: ${pct(r.pageSetRate)} (${r.pageSets})   (target ≥ 90%)`);
  console.log(`- lines of 5 letters or more in the right language: ${pct(r.lineRate)} (${r.lineHits})   (target ≥ 95%)`);
}

await main();
