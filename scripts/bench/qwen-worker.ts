/**
 * Bench worker for the qwen engine's overhead: builds the tiny Qwen3-VL-shaped fixture model,
 * loads it through the real engine (transformers.js on onnxruntime-node), reads the given files
 * with scan(), and prints one JSON object with, per page, the wall time and the time spent inside
 * ONNX Runtime's session.run. The fixture's graphs do next to no arithmetic, so what is left of a
 * page's time besides session.run is the engine's own cost: image preparation, the chat template,
 * transformers.js' generation loop, streaming, the loop guard, the language stage and the record.
 *
 *   node --import tsx scripts/bench/qwen-worker.ts FILE...
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildQwenFixture } from "../make-fixture-model.js";
// The built library (dist/, what users run), not the sources through tsx, whose helpers change timings.
import { getEngineFactory, scan } from "../../dist/index.js";

interface SessionLike {
  run(...args: unknown[]): Promise<unknown>;
}

// transformers.js loads onnxruntime-node with require(); patching the same CommonJS module's
// InferenceSession times every session.run it makes (vision encoder, embeddings, decoder).
const require = createRequire(import.meta.url);
const ort = require("onnxruntime-node") as { InferenceSession: { prototype: SessionLike } };
const proto = ort.InferenceSession.prototype;
const run = proto.run;
let ortMs = 0;
let ortCalls = 0;
proto.run = async function (this: SessionLike, ...args: unknown[]) {
  const started = performance.now();
  try {
    return await run.apply(this, args);
  } finally {
    ortMs += performance.now() - started;
    ortCalls++;
  }
};

const files = process.argv.slice(2);
const dir = mkdtempSync(path.join(tmpdir(), "qwen-ocr-bench-fixture-"));
try {
  const model = await buildQwenFixture(dir, { dtypes: ["q4"] });
  const started = performance.now();
  const engine = await (await getEngineFactory("qwen")).load({ model, dtype: "q4", device: "cpu" });
  const loadMs = performance.now() - started;
  const pages = [];
  for (const file of files) {
    ortMs = 0;
    ortCalls = 0;
    let t0 = performance.now();
    for await (const r of scan([file], { engine, pdfText: "ocr" })) {
      if (r.error) throw new Error(`${file}: ${r.error.message}`);
      pages.push({ file, page: r.page, wallMs: performance.now() - t0, ortMs, ortCalls, finish: r.finish, tokens: r.tokens, timings: r.timings });
      ortMs = 0;
      ortCalls = 0;
      t0 = performance.now();
    }
  }
  await engine.close();
  process.stdout.write(JSON.stringify({ loadMs, pages }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
