/**
 * Batch benchmarks (`npm run bench -- --only cache,memory`), each run of the built CLI in its own
 * process, figures as ratios against a reference measured in the same run:
 *
 * cache:  a finished batch of receipts run again (every page from the cache) against its first
 *         run; then a run killed with SIGKILL at a random page and run again, whose records must
 *         equal the uninterrupted run's (minus timings and the `cached` flag).
 * memory: peak RSS of a generated 500-page PDF against its 50-page prefix, every page present.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PDFDocument, StandardFonts } from "pdf-lib";
import { watchPeak } from "./proc.js";

export interface BatchBenchOptions {
  root: string;
  /** ../shared/eval */
  data: string;
  engine: string;
  quick: boolean;
  /** Seed for the SIGKILL page (default: random, printed). */
  seed?: number;
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  peakRssMb: number;
}

/** Runs the CLI; `killAtLine` sends SIGKILL once stdout has that many lines. */
function cli(root: string, args: string[], env: NodeJS.ProcessEnv, killAtLine?: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [path.join(root, "bin/qwen-ocr.js"), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stopPeak = watchPeak(child.pid!);
    let stdout = "";
    let stderr = "";
    let killed = false;
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString("utf8");
      if (killAtLine !== undefined && !killed && stdout.split("\n").length - 1 >= killAtLine) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      resolve({ code, signal, stdout, stderr, wallMs: performance.now() - t0, peakRssMb: stopPeak() });
    });
  });
}

const records = (stdout: string) => stdout.trimEnd().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
const comparable = (stdout: string) => records(stdout).map(({ timings: _t, cached: _c, ...rest }) => JSON.stringify(rest));
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function check(run: RunResult, what: string): void {
  if (run.code !== 0) throw new Error(`${what} exited ${run.code ?? run.signal}: ${run.stderr.slice(-2000)}`);
}

export async function benchCache(o: BatchBenchOptions): Promise<void> {
  const dir = path.join(o.data, "sroie/img");
  let files = readdirSync(dir).filter((f) => /\.jpe?g$/i.test(f)).sort().map((f) => path.join(dir, f));
  if (o.quick) files = files.slice(0, 10);
  const n = files.length;
  const args = ["scan", ...files, "-e", o.engine, "-f", "jsonl", "-q"];
  const homes: string[] = [];
  const home = () => {
    const h = mkdtempSync(path.join(tmpdir(), "qwen-ocr-bench-"));
    homes.push(h);
    return { QWEN_OCR_HOME: h, QWEN_OCR_CACHE: "1" };
  };
  try {
    console.error(`bench cache: ${n} receipts, engine ${o.engine}`);
    const env = home();
    const first = await cli(o.root, args, env);
    check(first, "first run");
    const again = await cli(o.root, args, env);
    check(again, "re-run");
    const cachedPages = records(again.stdout).filter((r) => r.cached).length;
    const same = JSON.stringify(comparable(again.stdout)) === JSON.stringify(comparable(first.stdout));

    const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
    const killAt = 1 + (seed % (n - 1)); // after 1 .. n-1 records
    const resumeEnv = home();
    const killed = await cli(o.root, args, resumeEnv, killAt);
    const resumed = await cli(o.root, args, resumeEnv);
    check(resumed, "resumed run");
    const resumedRecords = records(resumed.stdout);
    const fromCache = resumedRecords.filter((r) => r.cached).length;
    const equal = JSON.stringify(comparable(resumed.stdout)) === JSON.stringify(comparable(first.stdout));

    console.log(`### Cache and resume (${n} SROIE receipts, ${o.engine}, one process per run)`);
    console.log("");
    console.log("| run | wall | pages from the cache |");
    console.log("|---|---:|---:|");
    console.log(`| first run (empty cache) | ${s(first.wallMs)} | 0 |`);
    console.log(`| same batch again | ${s(again.wallMs)} | ${cachedPages} / ${n} |`);
    console.log(`| killed (SIGKILL) after ${killAt} record(s) | ${s(killed.wallMs)} | |`);
    console.log(`| run again after the kill | ${s(resumed.wallMs)} | ${fromCache} / ${n} |`);
    console.log("");
    console.log(`- re-run / first run = ${(again.wallMs / first.wallMs).toFixed(3)}×   (target ≤ 0.1×)`);
    console.log(`- re-run's records equal the first run's (minus timings, cached): ${same ? "yes" : "NO"}`);
    console.log(`- resumed run's records equal an uninterrupted run's (minus timings, cached): ${equal ? "yes" : "NO"}; seed ${seed}`);
    console.log(`- resumed run / first run = ${(resumed.wallMs / first.wallMs).toFixed(3)}× (it read ${n - fromCache} of ${n} pages)`);
    console.log("");
  } finally {
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  }
}

/** A PDF of `n` A6 pages, each with a few lines of text (different on every page). */
async function textPdf(n: number): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let i = 1; i <= n; i++) {
    const page = doc.addPage([298, 420]);
    const lines = [`Page ${i} of ${n}`, `Invoice ${100000 + i * 37}`, `Total due: ${(i * 13.37).toFixed(2)} EUR`, "Thank you for your order"];
    lines.forEach((line, k) => page.drawText(line, { x: 24, y: 380 - k * 28, size: 14, font }));
  }
  return doc.save({ useObjectStreams: true });
}

export async function benchMemory(o: BatchBenchOptions): Promise<void> {
  const total = o.quick ? 200 : 500;
  const prefix = total / 10;
  const dir = mkdtempSync(path.join(tmpdir(), "qwen-ocr-bench-mem-"));
  try {
    const big = path.join(dir, `${total}.pdf`);
    const small = path.join(dir, `${prefix}.pdf`);
    writeFileSync(big, await textPdf(total));
    writeFileSync(small, await textPdf(prefix));
    // The pages carry a text layer: read them with the engine all the same, when --pdf-text exists.
    const help = await cli(o.root, ["scan", "--help"], {});
    const ocrAll = help.stdout.includes("--pdf-text") ? ["--pdf-text", "ocr"] : [];
    const args = (file: string) => ["scan", file, "-e", o.engine, "-f", "jsonl", "-q", "--dpi", "100", "--no-cache", ...ocrAll];
    console.error(`bench memory: ${prefix}- and ${total}-page PDFs (A6 at 100 dpi), engine ${o.engine}`);
    const a = await cli(o.root, args(small), {});
    check(a, `${prefix}-page run`);
    const b = await cli(o.root, args(big), {});
    check(b, `${total}-page run`);
    const got = records(b.stdout);
    const complete = got.length === total && got.every((r, i) => r.page === i + 1 && !r.error && String(r.text).includes(`Page ${i + 1} of`));
    const readPages = got.filter((r) => String(r.text).includes(`Page ${Number(r.page)} of`)).length;

    console.log(`### Memory on a long PDF (${o.engine}, --dpi 100, A6 pages with text)`);
    console.log("");
    console.log("| pages | wall | per page | peak RSS |");
    console.log("|---:|---:|---:|---:|");
    console.log(`| ${prefix} | ${s(a.wallMs)} | ${(a.wallMs / prefix).toFixed(0)} ms | ${a.peakRssMb.toFixed(0)} MB |`);
    console.log(`| ${total} | ${s(b.wallMs)} | ${(b.wallMs / total).toFixed(0)} ms | ${b.peakRssMb.toFixed(0)} MB |`);
    console.log("");
    console.log(`- peak RSS ${total} pages / ${prefix} pages = ${(b.peakRssMb / a.peakRssMb).toFixed(2)}×   (target ≤ 1.2×)`);
    console.log(`- every page present, in order, none failed: ${complete ? "yes" : "NO"} (${got.length} records; ${readPages} with their "Page N of" line read)`);
    console.log("");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
