/**
 * `npm run bench`: speed and memory of the ppocr engine against the references, measured in one run
 * on the same files: Tesseract (Debian's CLI, OMP_THREAD_LIMIT=1, when installed) and
 * @gutenye/ocr-node (the existing JS wrapper of the same PP-OCRv4 models). Each engine runs in its
 * own process so its peak RSS is its own. Prints ratios, not just seconds.
 *
 *   npm run bench                  # SROIE receipts + Tesseract's book pages
 *   npm run bench -- --quick       # 10 receipts, one book page
 *   npm run bench -- --only cache,memory   # sections: ppocr (the above), cache, memory, pdf-text, qwen, serve
 *
 * `cache` and `memory` measure batches (scripts/bench/batches.ts): a re-run and a resumed run
 * against the first run, and a 500-page PDF's peak memory against its 50-page prefix.
 * `pdf-text`: born-digital PDFs read from their text layer against OCR (scripts/bench/pdf-text.ts).
 * `qwen`: the qwen engine's per-page overhead on the fixture model (scripts/bench/qwen.ts).
 * `serve`: the service under 4 concurrent clients against one `scan` per file (scripts/bench/serve.ts).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { benchCache, benchMemory } from "./bench/batches.js";
import { benchPdfText } from "./bench/pdf-text.js";
import { median, runProcess, runWorker } from "./bench/proc.js";
import { benchQwen } from "./bench/qwen.js";
import { benchServe } from "./bench/serve.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    data: { type: "string", default: path.resolve(root, "../shared/eval") },
    quick: { type: "boolean", default: false },
    "no-gutenye": { type: "boolean", default: false },
    only: { type: "string", default: "ppocr,cache,memory,pdf-text,qwen,serve" },
    engine: { type: "string", default: "ppocr" },
    seed: { type: "string" },
  },
});
const SECTIONS = ["ppocr", "cache", "memory", "pdf-text", "qwen", "serve"] as const;

interface PageTiming {
  file: string;
  wallMs: number;
  timings?: Record<string, number>;
}
interface WorkerResult {
  loadMs: number;
  pages: PageTiming[];
  peakRssMb: number;
  wallMs: number;
}

function worker(script: string, args: string[]): Promise<WorkerResult> {
  return runWorker<{ loadMs: number; pages: PageTiming[] }>(root, script, args);
}

async function tesseract(files: string[]): Promise<WorkerResult | undefined> {
  if (spawnSync("tesseract", ["--version"]).status !== 0) return undefined;
  const pages: PageTiming[] = [];
  let peak = 0;
  for (const file of files) {
    const r = await runProcess(root, "tesseract", [file, "-", "-l", "eng"], { OMP_THREAD_LIMIT: "1" });
    pages.push({ file, wallMs: r.wallMs });
    peak = Math.max(peak, r.peakRssMb);
  }
  return { loadMs: 0, pages, peakRssMb: peak, wallMs: pages.reduce((a, p) => a + p.wallMs, 0) };
}

function startupMs(): number {
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    spawnSync(process.execPath, [path.join(root, "bin/qwen-ocr.js"), "--help"]);
    times.push(performance.now() - t0);
  }
  return median(times);
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const x = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(2)}×` : "n/a");

async function benchPpocr() {
  const data = values.data!;
  if (!existsSync(data)) throw new Error(`no evaluation data at ${data}`);
  let receipts = readdirSync(path.join(data, "sroie/img")).filter((f) => /\.jpe?g$/i.test(f)).sort().map((f) => path.join(data, "sroie/img", f));
  let books = ["8071_093.3B.tif", "8087_054.3B.tif"].map((f) => path.join(data, "tesseract-test", f));
  if (values.quick) {
    receipts = receipts.slice(0, 10);
    books = books.slice(0, 1);
  }
  if (!existsSync(path.join(root, "dist/cli/program.js"))) throw new Error("run `npm run build` first");

  console.error(`bench: ${receipts.length} receipts, ${books.length} book page(s)`);
  const ours = await worker("ppocr-worker.mjs", ["ppocr", ...receipts, ...books]);
  const tess = await tesseract([...receipts, ...books]);
  const gutenye = values["no-gutenye"] ? undefined : await worker("gutenye-worker.mjs", [...receipts, ...books]);

  const isReceipt = (p: PageTiming) => receipts.includes(p.file);
  const med = (r: WorkerResult | undefined, pick: (p: PageTiming) => boolean) => (r ? median(r.pages.filter(pick).map((p) => p.wallMs)) : undefined);
  const oursReceipt = med(ours, isReceipt)!;
  const bareReceipt = median(ours.pages.filter(isReceipt).map((p) => p.timings?.modelMs ?? NaN));
  const oursBook = med(ours, (p) => !isReceipt(p))!;
  const bareBook = median(ours.pages.filter((p) => !isReceipt(p)).map((p) => p.timings?.modelMs ?? NaN));
  const tessReceipt = med(tess, isReceipt);
  const tessBook = med(tess, (p) => !isReceipt(p));
  const gutReceipt = med(gutenye, isReceipt);
  const gutBook = med(gutenye, (p) => !isReceipt(p));

  console.log(`| | ppocr (ours) | bare models (wall time with a model call running) | Tesseract ${tess ? "(OMP_THREAD_LIMIT=1)" : "(not installed)"} | @gutenye/ocr-node |`);
  console.log("|---|---:|---:|---:|---:|");
  console.log(`| SROIE receipt, median | ${s(oursReceipt)} | ${s(bareReceipt)} | ${tessReceipt ? s(tessReceipt) : "n/a"} | ${gutReceipt ? s(gutReceipt) : "n/a"} |`);
  console.log(`| book page, median | ${s(oursBook)} | ${s(bareBook)} | ${tessBook ? s(tessBook) : "n/a"} | ${gutBook ? s(gutBook) : "n/a"} |`);
  console.log(`| receipts per second | ${(1000 / oursReceipt).toFixed(2)} | | ${tessReceipt ? (1000 / tessReceipt).toFixed(2) : "n/a"} | ${gutReceipt ? (1000 / gutReceipt).toFixed(2) : "n/a"} |`);
  console.log(`| model load | ${s(ours.loadMs)} | | (per process) | ${gutenye ? s(gutenye.loadMs) : "n/a"} |`);
  console.log(`| peak RSS | ${ours.peakRssMb.toFixed(0)} MB | | ${tess ? `${tess.peakRssMb.toFixed(0)} MB` : "n/a"} | ${gutenye ? `${gutenye.peakRssMb.toFixed(0)} MB` : "n/a"} |`);
  console.log("");
  console.log("Ratios (same run; lower is better):");
  console.log(`- receipt: ppocr / bare models = ${x(oursReceipt, bareReceipt)}   (target ≤ 1.15×)`);
  console.log(`- receipt: ppocr / Tesseract   = ${x(oursReceipt, tessReceipt)}   (target ≤ 1.2×)`);
  console.log(`- receipt: ppocr / gutenye     = ${x(oursReceipt, gutReceipt)}   (target ≤ 0.5×)`);
  console.log(`- book page: ppocr / Tesseract = ${x(oursBook, tessBook)}   (target ≤ 1×)`);
  console.log(`- book page: ppocr / gutenye   = ${x(oursBook, gutBook)}`);
  console.log(`- qwen-ocr --help start-up: ${startupMs().toFixed(0)} ms (target < 200 ms)`);
}

async function main() {
  const only = values.only!.split(",").map((x) => x.trim()).filter(Boolean);
  const unknown = only.filter((x) => !(SECTIONS as readonly string[]).includes(x));
  if (unknown.length) throw new Error(`unknown section(s) ${unknown.join(", ")} (sections: ${SECTIONS.join(", ")})`);
  if (!existsSync(path.join(root, "dist/cli/program.js"))) throw new Error("run `npm run build` first");
  const batch = { root, data: values.data!, engine: values.engine!, quick: values.quick!, seed: values.seed === undefined ? undefined : Number(values.seed) };
  if (only.includes("ppocr")) await benchPpocr();
  if (only.includes("cache")) {
    console.log("");
    await benchCache(batch);
  }
  if (only.includes("memory")) {
    console.log("");
    await benchMemory(batch);
  }
  if (only.includes("pdf-text")) await benchPdfText(batch);
  if (only.includes("qwen")) await benchQwen(batch);
  if (only.includes("serve")) await benchServe({ ...batch, clients: 4, serverConcurrency: 1 });
}

await main();
