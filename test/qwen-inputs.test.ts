/** The fast input path gives exactly what transformers.js' Qwen processor gives. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { buildQwenFixture } from "../scripts/make-fixture-model.js";
import { chatText, fastInputs, processorInputs } from "../src/engines/qwen/inputs.js";
import { loadModel, type Loaded, type ProcessorOutput, type TensorLike } from "../src/engines/qwen/runtime.js";
import type { RgbImage } from "../src/types.js";
import { ROOT } from "./helpers/cli.js";

let dir: string;
const loaded: Loaded[] = [];

async function load(model: string): Promise<Loaded> {
  const l = await loadModel({ dir: model, dtype: "fp32", device: "cpu", cacheDir: path.join(dir, "cache"), localModelPath: dir });
  loaded.push(l);
  return l;
}

beforeAll(() => {
  mkdirSync(path.join(ROOT, "test/.tmp"), { recursive: true });
  dir = mkdtempSync(path.join(ROOT, "test/.tmp/qwen-inputs-"));
});

afterAll(async () => {
  for (const l of loaded) await l.model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function noise(width: number, height: number): RgbImage {
  let seed = 7;
  const data = new Uint8Array(width * height * 3).map(() => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
  return { data, width, height };
}

function bytes(t: TensorLike): Buffer {
  const d = t.data as unknown as ArrayBufferView;
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

function expectSame(fast: ProcessorOutput, slow: ProcessorOutput) {
  for (const key of ["input_ids", "attention_mask", "pixel_values", "image_grid_thw"] as const) {
    expect(fast[key].dims, key).toEqual(slow[key].dims);
    expect(fast[key].type, key).toBe(slow[key].type);
    expect(bytes(fast[key]).equals(bytes(slow[key])), `${key} bytes`).toBe(true);
  }
}

describe("fast inputs", () => {
  it("are bit-identical to the processor's (fixture config: mean/std 0.5)", async () => {
    const l = await load(await buildQwenFixture(path.join(dir, "a"), { dtypes: ["fp32"] }));
    for (const [w, h] of [[320, 192], [64, 64], [96, 448]]) {
      const image = noise(w!, h!);
      const fast = fastInputs(l, image, "Read it.")!;
      expect(fast).toBeDefined();
      expectSame(fast, await processorInputs(l, image, "Read it."));
    }
  });

  it("are bit-identical with CLIP's mean/std and another rescale factor", async () => {
    const model = await buildQwenFixture(path.join(dir, "b"), { dtypes: ["fp32"] });
    const file = path.join(model, "preprocessor_config.json");
    const config = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, JSON.stringify({ ...config, image_mean: [0.48145466, 0.4578275, 0.40821073], image_std: [0.26862954, 0.26130258, 0.27577711], rescale_factor: 0.00392157 }));
    const l = await load(model);
    const image = noise(128, 96);
    expectSame(fastInputs(l, image, "x")!, await processorInputs(l, image, "x"));
  });

  it("a tokenizer config without a chat template gets Qwen3-VL's rendering of one user turn", async () => {
    const model = await buildQwenFixture(path.join(dir, "d"), { dtypes: ["fp32"] });
    const withTemplate = chatText(await load(model), "Read it.");
    const file = path.join(model, "tokenizer_config.json");
    const { chat_template: _, ...config } = JSON.parse(readFileSync(file, "utf8"));
    writeFileSync(file, JSON.stringify(config));
    expect(chatText(await load(model), "Read it.")).toBe(withTemplate);
  });

  it("step aside for settings they do not reproduce", async () => {
    const model = await buildQwenFixture(path.join(dir, "c"), { dtypes: ["fp32"] });
    const l = await load(model);
    expect(fastInputs(l, noise(100, 64), "x")).toBeUndefined(); // not a multiple of 32
    l.processor.image_processor.do_flip_channel_order = true;
    expect(fastInputs(l, noise(64, 64), "x")).toBeUndefined();
  });

  it("take a small part of the processor's time on a full page", async () => {
    const l = loaded[0]!;
    const image = noise(960, 1344); // an A4 page at the default budget
    let started = performance.now();
    fastInputs(l, image, "x");
    const fast = performance.now() - started;
    started = performance.now();
    await processorInputs(l, image, "x");
    const slow = performance.now() - started;
    expect(fast).toBeLessThan(slow / 3);
  });
});
