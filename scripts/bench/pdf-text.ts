/**
 * `npm run bench -- --only pdf-text`: `--pdf-text auto` against `--pdf-text ocr` on the
 * born-digital PDFs of ../shared/eval/multilingual: wall time of the same scan() in both modes
 * (median of `runs`, the engine's load included, since auto may never load it), the speed ratio,
 * and the CER of each mode against the ground truth.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { scan } from "../../src/api.js";
import type { PageRecord } from "../../src/types.js";
import { readManifest } from "../lib/manifest.js";
import { cer } from "../lib/score.js";
import { median } from "./proc.js";

export interface PdfTextBenchOptions {
  /** ../shared/eval */
  data: string;
  engine: string;
  quick: boolean;
}

type Mode = "auto" | "ocr";

export async function benchPdfText(o: PdfTextBenchOptions): Promise<void> {
  const dir = path.join(o.data, "multilingual");
  const entries = readManifest(dir).filter((e) => e.kind.startsWith("born-digital PDF"));
  const files = [...new Set(entries.map((e) => path.join(dir, e.file)))];
  const runs = o.quick ? 1 : 3;

  const run = async (mode: Mode) => {
    const started = performance.now();
    const records: PageRecord[] = [];
    for await (const r of scan(files, { engine: o.engine, pdfText: mode, languages: false })) records.push(r);
    return { ms: performance.now() - started, records };
  };
  const score = (records: PageRecord[]) => {
    let edits = 0;
    let ref = 0;
    const pages: string[] = [];
    for (const e of entries) {
      const r = records.find((x) => x.source === path.join(dir, e.file) && x.page === (e.page ?? 1));
      const truth = readFileSync(path.join(dir, e.gt_file), "utf8");
      const s = cer(r?.text ?? "", truth, { ignoreWhitespace: ["zh", "ja", "th"].includes(e.languages[0]!) });
      edits += s.edits;
      ref += s.refLength;
      pages.push(`${e.id}: ${r?.origin ?? "missing"}, CER ${(s.cer * 100).toFixed(2)}%`);
    }
    return { edits, ref, pages };
  };

  console.error(`bench pdf-text: ${files.length} born-digital PDFs, ${runs} run(s) per mode`);
  const times: Record<Mode, number[]> = { auto: [], ocr: [] };
  const last: Partial<Record<Mode, PageRecord[]>> = {};
  for (let i = 0; i < runs; i++) {
    for (const mode of ["ocr", "auto"] as const) {
      const { ms, records } = await run(mode);
      times[mode].push(ms);
      last[mode] = records;
    }
  }

  console.log(`### PDF text layers (${files.length} born-digital PDFs of the multilingual set, ${entries.length} pages with ground truth, ${o.engine}, median of ${runs})`);
  console.log("");
  console.log("| mode | wall | CER |");
  console.log("|---|---:|---:|");
  const scored = { auto: score(last.auto!), ocr: score(last.ocr!) };
  for (const mode of ["auto", "ocr"] as const) {
    const s = scored[mode];
    console.log(`| --pdf-text ${mode} | ${(median(times[mode]) / 1000).toFixed(2)} s | ${((100 * s.edits) / s.ref).toFixed(2)}% |`);
  }
  console.log("");
  console.log(`- ocr / auto wall time = ${(median(times.ocr) / median(times.auto)).toFixed(1)}×   (target ≥ 20×)`);
  for (const p of scored.auto.pages) console.log(`- auto, ${p}`);
  console.log("");
}
