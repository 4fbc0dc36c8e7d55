/**
 * `--pdf-text auto` against `--pdf-text ocr` on the born-digital PDFs of ../shared/eval: wall time
 * of the same scan() in both modes (median of --runs, the engine's load included since auto may
 * never load it), the auto-vs-ocr speed ratio, and the CER of each mode against the ground truth.
 *
 *   npx tsx scripts/pdf-text-bench.ts [--engine ppocr] [--runs 3]
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { scan } from "../src/api.js";
import type { PageRecord } from "../src/types.js";
import { cer } from "./lib/score.js";

const { values } = parseArgs({ options: { engine: { type: "string", default: "ppocr" }, runs: { type: "string", default: "3" } } });
const EVAL = path.resolve(import.meta.dirname, "../../shared/eval/multilingual");

interface Entry {
  id: string;
  file: string;
  page?: number;
  gt_file: string;
  languages: string[];
  kind: string;
}

const entries = (JSON.parse(readFileSync(path.join(EVAL, "manifest.json"), "utf8")) as Entry[]).filter((e) => e.kind.startsWith("born-digital PDF"));
const files = [...new Set(entries.map((e) => path.join(EVAL, e.file)))];

async function run(mode: "auto" | "ocr"): Promise<{ ms: number; records: PageRecord[] }> {
  const started = performance.now();
  const records: PageRecord[] = [];
  for await (const r of scan(files, { engine: values.engine, pdfText: mode, languages: false })) records.push(r);
  return { ms: performance.now() - started, records };
}

function score(records: PageRecord[]): { edits: number; ref: number; pages: string[] } {
  let edits = 0;
  let ref = 0;
  const pages: string[] = [];
  for (const e of entries) {
    const r = records.find((x) => x.source === path.join(EVAL, e.file) && x.page === (e.page ?? 1));
    const truth = readFileSync(path.join(EVAL, e.gt_file), "utf8");
    const s = cer(r?.text ?? "", truth, { ignoreWhitespace: ["zh", "ja", "th"].includes(e.languages[0]!) });
    edits += s.edits;
    ref += s.refLength;
    pages.push(`${e.id} ${r?.origin ?? "?"} ${(s.cer * 100).toFixed(2)}%`);
  }
  return { edits, ref, pages };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const runs = Number(values.runs);
const times: Record<"auto" | "ocr", number[]> = { auto: [], ocr: [] };
const last: Partial<Record<"auto" | "ocr", PageRecord[]>> = {};
for (let i = 0; i < runs; i++) {
  for (const mode of ["ocr", "auto"] as const) {
    const { ms, records } = await run(mode);
    times[mode].push(ms);
    last[mode] = records;
  }
}
console.log(`${files.length} born-digital PDFs, ${entries.length} pages, engine ${values.engine}, ${runs} runs each`);
for (const mode of ["auto", "ocr"] as const) {
  const s = score(last[mode]!);
  console.log(`--pdf-text ${mode}: median ${median(times[mode]).toFixed(0)} ms (${times[mode].map((t) => t.toFixed(0)).join(", ")}); CER ${((100 * s.edits) / s.ref).toFixed(2)}% (${s.edits}/${s.ref})`);
  for (const p of s.pages) console.log(`  ${p}`);
}
console.log(`auto is ${(median(times.ocr) / median(times.auto)).toFixed(1)}x faster than ocr`);
