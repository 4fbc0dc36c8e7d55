/**
 * `npm run bench -- --only qwen`: the qwen engine's own cost per page, on the fixture model.
 *
 * The real Qwen3-VL weights cannot be had here, so this measures what does not depend on them:
 * everything the engine does around ONNX Runtime's session.run (image preparation, chat template,
 * transformers.js' generation loop, streaming, the loop guard, the language stage, the record).
 * The worker (qwen-worker.ts) times every session.run; a page's overhead is its wall time less
 * that. The reference is the page's whole wall time in the same run; on the real model the
 * session.run share grows by orders of magnitude while the overhead stays what it is here.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { median, runWorker } from "./proc.js";

export interface QwenBenchOptions {
  root: string;
  /** ../shared/eval */
  data: string;
  quick: boolean;
}

interface PageRun {
  file: string;
  page: number;
  wallMs: number;
  ortMs: number;
  ortCalls: number;
  finish: string;
  tokens?: { input: number; output: number };
  timings: Record<string, number>;
}

export async function benchQwen(o: QwenBenchOptions): Promise<void> {
  const receipts = readdirSync(path.join(o.data, "sroie/img"))
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()
    .slice(0, o.quick ? 3 : 10)
    .map((f) => path.join(o.data, "sroie/img", f));
  const samples = ["receipt.png", "menu-zh-en-ja.png", "letter.pdf"].map((f) => path.join(o.root, "fixtures/samples", f));
  const dir = mkdtempSync(path.join(tmpdir(), "qwen-ocr-bench-qwen-"));
  try {
    // Half white, half black: the fixture's looping input, for a long generation (until the loop guard).
    const loop = path.join(dir, "loop.png");
    const w = 800;
    const h = 1000;
    const px = Buffer.alloc(w * h * 3, 255).fill(0, (w * h * 3) / 2);
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toFile(loop);

    console.error(`bench qwen: ${samples.length + receipts.length + 1} inputs on the fixture model`);
    const { loadMs, pages } = await runWorker<{ loadMs: number; pages: PageRun[] }>(o.root, "qwen-worker.ts", [...samples, ...receipts, loop]);
    // The first page pays for JIT warm-up; a batch's pages look like the rest.
    const steady = pages.slice(1);
    const short = steady.filter((p) => p.finish !== "loop");
    const long = steady.find((p) => p.finish === "loop");
    const overhead = (p: PageRun) => p.wallMs - p.ortMs;
    const ms = (x: number) => `${x.toFixed(0)} ms`;

    console.log(`### qwen engine overhead (fixture model, q4, cpu; ${pages.length} pages, first page left out as warm-up)`);
    console.log("");
    console.log("| | median per page |");
    console.log("|---|---:|");
    console.log(`| page wall time (pipeline included) | ${ms(median(short.map((p) => p.wallMs)))} |`);
    console.log(`| inside session.run (the fixture's graphs) | ${ms(median(short.map((p) => p.ortMs)))} |`);
    console.log(`| overhead: everything else | ${ms(median(short.map(overhead)))} |`);
    console.log(`| of which image preparation (resize, patches) | ${ms(median(short.map((p) => p.timings.preprocessMs ?? 0)))} |`);
    console.log(`| of which rasterizing (decode / PDF render) | ${ms(median(short.map((p) => p.timings.rasterizeMs ?? 0)))} |`);
    console.log(`| visual tokens + prompt tokens in | ${median(short.map((p) => p.tokens?.input ?? 0)).toFixed(0)} |`);
    console.log("");
    if (long) {
      const out = long.tokens?.output ?? 0;
      const decodeOverhead = (long.timings.decodeMs ?? 0) - long.ortMs;
      console.log(
        `- long generation (${out} tokens, ended by the loop guard: finish "${long.finish}"): decode ${ms(long.timings.decodeMs ?? 0)}, ` +
          `of which session.run ${ms(long.ortMs)} (${long.ortCalls} calls); overhead per generated token ${(decodeOverhead / Math.max(out, 1)).toFixed(2)} ms`,
      );
    }
    console.log(`- overhead / page wall time = ${(median(short.map(overhead)) / median(short.map((p) => p.wallMs))).toFixed(2)} on the fixture (the reference: the same pages' wall time in this run)`);
    console.log(`- engine load (fixture, transformers.js + 3 sessions): ${ms(loadMs)}`);
    console.log("");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
