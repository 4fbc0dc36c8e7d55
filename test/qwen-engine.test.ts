import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { buildQwenFixture, FIXTURE_TEXTS, makeFixtureImages } from "../scripts/make-fixture-model.js";
import { qwen } from "../src/engines/qwen/index.js";
import type { QwenEngine } from "../src/engines/qwen/engine.js";
import type { Engine, Page } from "../src/types.js";
import { UsageError } from "../src/errors.js";
import { ROOT, runCli, spawnCli } from "./helpers/cli.js";
import { assertPageRecord } from "./helpers/schema.js";

const TMP = path.join(ROOT, "test/.tmp");
let dir: string;
let model: string;
let images: Awaited<ReturnType<typeof makeFixtureImages>>;
let home: string;

beforeAll(async () => {
  mkdirSync(TMP, { recursive: true });
  dir = mkdtempSync(path.join(TMP, "qwen-engine-"));
  model = await buildQwenFixture(path.join(dir, "model"));
  images = await makeFixtureImages(path.join(dir, "pages"));
  home = path.join(dir, "home"); // an empty cache home: no pulled models
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const jsonl = (stdout: string) => stdout.trimEnd().split("\n").filter(Boolean).map((l) => JSON.parse(l));
const env = () => ({ QWEN_OCR_HOME: home });

async function page(file: string): Promise<Page> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { source: file, page: 1, pages: 1, image: { data: new Uint8Array(data), width: info.width, height: info.height }, rasterizeMs: 0, warnings: [] };
}

describe("qwen engine on the fixture model (full transformers.js path)", () => {
  it("scan a.png b.png --engine qwen --model <fixture> --format jsonl: each image's own text", async () => {
    const { code, stdout, stderr } = await runCli(["scan", images.dark, images.light, "--engine", "qwen", "--model", model, "-f", "jsonl"], { env: env() });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const records = jsonl(stdout);
    records.forEach(assertPageRecord);
    expect(records.map((r) => r.text)).toEqual([FIXTURE_TEXTS.dark, FIXTURE_TEXTS.light]);
    const [first] = records;
    expect(first).toMatchObject({
      engine: "qwen",
      model,
      dtype: "q4",
      device: "cpu",
      finish: "stop",
      lines: [{ text: "Fixture OCR: DARK image" }, { text: "fixture line 2" }],
      generation: { prompt: "plain", do_sample: false, max_new_tokens: 2048, max_pixels: 1310720 },
    });
    expect(first.tokens.input).toBeGreaterThan(50);
    // The answer plus <|im_end|>.
    expect(first.tokens.output).toBe(Buffer.byteLength(FIXTURE_TEXTS.dark) + 1);
    for (const stage of ["preprocessMs", "visionMs", "prefillMs", "decodeMs"]) expect(first.timings[stage]).toBeGreaterThanOrEqual(0);
  });

  it("two runs give identical output", async () => {
    const args = ["scan", images.light, images.dark, images.loop, "--engine", "qwen", "--model", model, "-f", "jsonl"];
    const strip = (stdout: string) => jsonl(stdout).map(({ timings: _t, ...rest }) => rest);
    const a = await runCli(args, { env: env() });
    const b = await runCli(args, { env: env() });
    expect(strip(a.stdout)).toEqual(strip(b.stdout));
  });

  it("a looping page stops at the guard's bound with finish 'loop', a warning, and the repeats cut", async () => {
    const engine = await qwen.load({ model, env: env() });
    try {
      const started = performance.now();
      const result = await engine.recognize(await page(images.loop));
      expect(result.finish).toBe("loop");
      expect(result.text).toBe(FIXTURE_TEXTS.loop.trim());
      expect(result.warnings.join("\n")).toMatch(/repetition loop: " la" × \d+/);
      // Stopped once 400 characters of " la" were out: 134 tokens, far from the 2,048 budget.
      expect(result.tokens!.output).toBeGreaterThanOrEqual(400);
      expect(result.tokens!.output).toBeLessThanOrEqual(405);
      expect(performance.now() - started).toBeLessThan(20_000);
    } finally {
      await engine.close();
    }
  });

  it("the guard's bounds are options; a retry with no_repeat_ngram_size is opt-in", async () => {
    const engine = await qwen.load({ model, env: env(), loopMinChars: 30, loopRetryNgram: 4, maxNewTokens: 60 });
    try {
      const result = await engine.recognize(await page(images.loop));
      expect(result.generation).toMatchObject({ loop_min_chars: 30, no_repeat_ngram_size: 4 });
      // Blocking 4-grams only makes the fixture wander off to the token budget: the first pass stays.
      expect(result.warnings[0]).toBe("repetition loop; the retry with no_repeat_ngram_size=4 ended with 'length' too, so the first pass was kept");
      expect(result).toMatchObject({ finish: "loop", text: "la" });
      expect(result.tokens!.output).toBe(30 + 60);
    } finally {
      await engine.close();
    }
  });

  it("max new tokens cut the page with finish 'length'", async () => {
    const engine = await qwen.load({ model, env: env(), maxNewTokens: 5 });
    try {
      const result = await engine.recognize(await page(images.light));
      expect(result).toMatchObject({ finish: "length", text: "Fixtu", tokens: { output: 5 } });
      expect(result.warnings).toEqual(["output cut at --max-new-tokens 5"]);
    } finally {
      await engine.close();
    }
  });

  it("a blank page gives empty text without running the model", async () => {
    const engine = await qwen.load({ model, env: env() });
    try {
      const result = await engine.recognize(await page(images.blank));
      expect(result).toMatchObject({ text: "", lines: [], finish: "stop", tokens: { input: 0, output: 0 } });
      expect(result.timings.visionMs).toBeUndefined();
    } finally {
      await engine.close();
    }
  });

  it("streams the text through onText as it is generated", async () => {
    const engine = await qwen.load({ model, env: env() });
    try {
      const deltas: string[] = [];
      const result = await engine.recognize(await page(images.dark), { onText: (d) => deltas.push(d) });
      expect(deltas.length).toBeGreaterThan(10);
      expect(deltas.join("")).toBe(result.text);
    } finally {
      await engine.close();
    }
  });

  it("sends the prompt it is given", async () => {
    const engine = await qwen.load({ model, env: env() });
    try {
      const result = await engine.recognize(await page(images.dark), { prompt: { name: "ask", text: "What does it say?" } });
      expect(result.text).toBe(FIXTURE_TEXTS.question);
      expect(result.generation?.prompt).toBe("ask");
    } finally {
      await engine.close();
    }
  });

  it("every dtype variant loads and agrees; info names model, dtype and device", async () => {
    const pages = [await page(images.dark), await page(images.light)];
    const outputs: string[][] = [];
    for (const dtype of ["fp32", "fp16", "q4", "q4f16", "decoder=q4f16,vision=fp16"]) {
      const engine = (await qwen.load({ model, dtype, env: env() })) as QwenEngine;
      try {
        expect(engine.info).toEqual({ engine: "qwen", model, dtype, device: "cpu" });
        const texts: string[] = [];
        for (const p of pages) texts.push((await engine.recognize(p)).text);
        outputs.push(texts);
      } finally {
        await engine.close();
      }
    }
    for (const texts of outputs) expect(texts).toEqual([FIXTURE_TEXTS.dark, FIXTURE_TEXTS.light]);
  });

  it("refuses mixed embed_tokens/vision_encoder dtypes", async () => {
    await expect(qwen.load({ model, dtype: "embed=fp16,vision=fp32,decoder=q4", env: env() })).rejects.toThrow(
      /embed_tokens \(fp16\) and vision_encoder \(fp32\) must use the same dtype/,
    );
    const { code, stderr } = await runCli(["scan", images.dark, "-e", "qwen", "--model", model, "--dtype", "vision=fp32,embed=q4f16"], { env: env() });
    expect(code).toBe(2);
    expect(stderr).toMatch(/silently corrupts the image features/);
  });

  it("a dtype the directory lacks is a missing model (exit 3) naming what is there", async () => {
    const fp32Only = await buildQwenFixture(path.join(dir, "fp32-only"), { dtypes: ["fp32"] });
    const { code, stderr } = await runCli(["scan", images.dark, "-e", "qwen", "--model", fp32Only, "--dtype", "q4f16"], { env: env() });
    expect(code).toBe(3);
    expect(stderr).toContain("has no q4f16 model (missing onnx/embed_tokens_q4f16.onnx");
    expect(stderr).toContain("installed: fp32");
    // Without --dtype it takes what is there.
    const ok = await runCli(["scan", images.dark, "-e", "qwen", "--model", fp32Only, "-f", "jsonl"], { env: env() });
    expect(jsonl(ok.stdout)[0]).toMatchObject({ dtype: "fp32", text: FIXTURE_TEXTS.dark });
  });

  it("a page that times out stops generating; the next page waits for it, then runs", async () => {
    const engine = await qwen.load({ model, env: env() });
    try {
      const controller = new AbortController();
      const looping = engine.recognize(await page(images.loop), { signal: controller.signal, onText: () => controller.abort(new Error("page took too long")) });
      const next = engine.recognize(await page(images.light));
      await expect(looping).rejects.toThrow("page took too long");
      expect((await next).text).toBe(FIXTURE_TEXTS.light);
    } finally {
      await engine.close();
    }
  });

  it.runIf(!existsSync("/proc/driver/nvidia/version") && !existsSync("/dev/dri"))("a forced device that cannot run here is a usage error naming why", async () => {
    const cuda = await runCli(["scan", images.dark, "-e", "qwen", "--model", model, "--device", "cuda"], { env: env() });
    expect(cuda.code).toBe(2);
    expect(cuda.stderr).toMatch(/^qwen-ocr: device cuda is not available: no NVIDIA driver found/);
    const webgpu = await runCli(["scan", images.dark, "-e", "qwen", "--model", model, "--device", "webgpu"], { env: env() });
    expect(webgpu.code).toBe(2);
    expect(webgpu.stderr).toMatch(/^qwen-ocr: device webgpu is not available: /);
    const cpu = await runCli(["scan", images.dark, "-e", "qwen", "--model", model, "--device", "cpu", "-f", "jsonl"], { env: env() });
    expect(JSON.parse(cpu.stdout)).toMatchObject({ device: "cpu", text: FIXTURE_TEXTS.dark });
  });

  it("bad option values are usage errors", async () => {
    await expect(qwen.load({ model, device: "tpu", env: env() })).rejects.toBeInstanceOf(UsageError);
    await expect(qwen.load({ model, maxNewTokens: 0, env: env() })).rejects.toThrow(/--max-new-tokens/);
    const { code } = await runCli(["scan", images.dark, "-e", "qwen", "--device", "tpu"], { env: env() });
    expect(code).toBe(2);
  });
});

describe("without a model", () => {
  it("--engine qwen --offline exits 3 naming the model and `qwen-ocr models pull`, in under 2 s (built bin)", async () => {
    const started = Date.now();
    const { code, stdout, stderr } = await spawnCli(["scan", images.dark, "--engine", "qwen", "--offline"], { env: env() });
    const elapsed = Date.now() - started;
    expect(code).toBe(3);
    expect(stdout).toBe("");
    expect(stderr).toContain("onnx-community/Qwen3-VL-2B-Instruct-ONNX");
    expect(stderr).toContain("`qwen-ocr models pull`");
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(elapsed).toBeLessThan(2000);
  });

  it("HF_HUB_OFFLINE=1 and a repo id: the same error, naming that repo", async () => {
    const { code, stderr } = await runCli(["scan", images.dark, "-e", "qwen", "--model", "someone/Other-VL"], { env: { ...env(), HF_HUB_OFFLINE: "1" } });
    expect(code).toBe(3);
    expect(stderr).toContain("model someone/Other-VL is not downloaded");
    expect(stderr).toContain("`qwen-ocr models pull --model someone/Other-VL`");
  });

  it("--engine auto falls back to ppocr with a note and exits 0", async () => {
    const { code, stdout, stderr } = await runCli(["scan", images.light, "-f", "jsonl"], { env: env() });
    expect(code).toBe(0);
    expect(stderr).toMatch(/^qwen-ocr: qwen: model onnx-community\/Qwen3-VL-2B-Instruct-ONNX is not downloaded .*`qwen-ocr models pull`; using ppocr\n$/);
    expect(jsonl(stdout)[0].engine).toBe("ppocr");
  });

  it("--engine auto picks qwen when --model names a model directory", async () => {
    const { code, stdout, stderr } = await runCli(["scan", images.light, "--model", model, "-f", "jsonl"], { env: env() });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(jsonl(stdout)[0]).toMatchObject({ engine: "qwen", text: FIXTURE_TEXTS.light });
  });

  it("a model directory that does not exist is named in the error", async () => {
    const { code, stderr } = await runCli(["scan", images.light, "-e", "qwen", "--model", "./no/such/dir"], { env: env(), cwd: dir });
    expect(code).toBe(3);
    expect(stderr).toContain(`model directory ${path.join(dir, "no/such/dir")} does not exist`);
  });
});
