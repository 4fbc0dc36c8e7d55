/**
 * The fixture model checks what it is fed: these tests drive its graphs directly through
 * onnxruntime-node, so they prove the checks have teeth (the engine tests prove they pass).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import * as ort from "onnxruntime-node";
import { buildQwenFixture, FIXTURE_TEXTS, fixtureTokenize } from "../scripts/make-fixture-model.js";
import { ROOT } from "./helpers/cli.js";

let dir: string;
let model: string;
let decoder: ort.InferenceSession;
let vision: ort.InferenceSession;

beforeAll(async () => {
  mkdirSync(path.join(ROOT, "test/.tmp"), { recursive: true });
  dir = mkdtempSync(path.join(ROOT, "test/.tmp/qwen-fixture-"));
  const started = performance.now();
  model = await buildQwenFixture(dir);
  expect(performance.now() - started).toBeLessThan(1000);
  decoder = await ort.InferenceSession.create(path.join(model, "onnx/decoder_model_merged.onnx"));
  vision = await ort.InferenceSession.create(path.join(model, "onnx/vision_encoder.onnx"));
});

afterAll(async () => {
  await decoder?.release();
  await vision?.release();
  rmSync(dir, { recursive: true, force: true });
});

const BANG = fixtureTokenize("!")[0]!;
const empty = () => new ort.Tensor("float32", new Float32Array(0), [1, 1, 0, 8]);

/** Embeddings: `before` text tokens, `image` image tokens of brightness `b`, `after` text tokens. */
function embeds(before: number[], image: number, b: number, after: number[] = []): ort.Tensor {
  const rows = before.length + image + after.length;
  const data = new Float32Array(rows * 16);
  before.forEach((id, i) => (data[i * 16] = Math.min(id, 1000)));
  for (let i = before.length; i < before.length + image; i++) {
    data[i * 16 + 1] = b;
    data[i * 16 + 2] = 1;
  }
  after.forEach((id, i) => (data[(before.length + image + i) * 16] = Math.min(id, 1000)));
  return new ort.Tensor("float32", data, [1, rows, 16]);
}

function positions(t: number[], h: number[], w: number[]): ort.Tensor {
  return new ort.Tensor("int64", BigInt64Array.from([...t, ...h, ...w].map(BigInt)), [3, 1, t.length]);
}

async function step(feeds: { embeds: ort.Tensor; mask: number; positions: ort.Tensor; past?: ort.Tensor[] }) {
  const past = feeds.past ?? [empty(), empty(), empty(), empty()];
  const out = await decoder.run({
    inputs_embeds: feeds.embeds,
    attention_mask: new ort.Tensor("int64", new BigInt64Array(feeds.mask).fill(1n), [1, feeds.mask]),
    position_ids: feeds.positions,
    "past_key_values.0.key": past[0]!,
    "past_key_values.0.value": past[1]!,
    "past_key_values.1.key": past[2]!,
    "past_key_values.1.value": past[3]!,
  });
  const logits = out.logits!.data as Float32Array;
  const token = logits.indexOf(30);
  return { token, present: ["present.0.key", "present.0.value", "present.1.key", "present.1.value"].map((k) => out[k]!) };
}

describe("fixture model", () => {
  // A prompt of 2 text tokens then a 2x2 grid of image tokens: t stays, h and w vary (M-RoPE).
  const prompt = fixtureTokenize("ab");
  const good = positions([0, 1, 2, 2, 2, 2], [0, 1, 2, 2, 3, 3], [0, 1, 2, 3, 2, 3]);

  it("is small and builds fast", () => {
    expect(statSync(path.join(model, "onnx/decoder_model_merged_q4f16.onnx")).size).toBeLessThan(20_000);
  });

  it("answers by image brightness, and 'no image' when the image is lost", async () => {
    const first = (text: string) => fixtureTokenize(text)[0];
    expect((await step({ embeds: embeds(prompt, 4, -0.8), mask: 6, positions: good })).token).toBe(first(FIXTURE_TEXTS.dark));
    expect((await step({ embeds: embeds(prompt, 4, 0.8), mask: 6, positions: good })).token).toBe(first(FIXTURE_TEXTS.light));
    expect((await step({ embeds: embeds(prompt, 4, 0.02), mask: 6, positions: good })).token).toBe(first(FIXTURE_TEXTS.loop));
    const noImage = positions([0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]);
    expect((await step({ embeds: embeds([...prompt, ...prompt, ...prompt], 0, 0), mask: 6, positions: noImage })).token).toBe(first(FIXTURE_TEXTS.none));
  });

  it("emits '!' for a wrong attention mask", async () => {
    expect((await step({ embeds: embeds(prompt, 4, 0.8), mask: 5, positions: good })).token).toBe(BANG);
  });

  it("emits '!' for 1-D positions on image tokens, or a prefill not starting at 0", async () => {
    const flat = positions([0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]);
    expect((await step({ embeds: embeds(prompt, 4, 0.8), mask: 6, positions: flat })).token).toBe(BANG);
    const shifted = positions([1, 2, 3, 3, 3, 3], [1, 2, 3, 3, 4, 4], [1, 2, 3, 4, 3, 4]);
    expect((await step({ embeds: embeds(prompt, 4, 0.8), mask: 6, positions: shifted })).token).toBe(BANG);
  });

  it("emits '!' when a decode step's position does not follow the previous one", async () => {
    // As in the chat template, text follows the image: it continues from max(t, h, w) + 1 = 4.
    const withTail = positions([0, 1, 2, 2, 2, 2, 4], [0, 1, 2, 2, 3, 3, 4], [0, 1, 2, 3, 2, 3, 4]);
    const prefill = await step({ embeds: embeds(prompt, 4, 0.8, fixtureTokenize("c")), mask: 7, positions: withTail });
    const next = embeds([prefill.token], 0, 0);
    const ok = await step({ embeds: next, mask: 8, positions: positions([5], [5], [5]), past: prefill.present });
    expect(ok.token).toBe(fixtureTokenize(FIXTURE_TEXTS.light)[1]);
    // transformers.js 4.3.1's text-only bug shifts decode positions by 2·S: caught.
    const bad = await step({ embeds: next, mask: 8, positions: positions([19], [19], [19]), past: prefill.present });
    expect(bad.token).toBe(BANG);
    // So is a stale attention mask at a decode step.
    expect((await step({ embeds: next, mask: 7, positions: positions([5], [5], [5]), past: prefill.present })).token).toBe(BANG);
  });

  it("the vision encoder reads the grid it is given (a wrong grid fails)", async () => {
    const pixels = new ort.Tensor("float32", new Float32Array(16 * 1536).fill(0.5), [16, 1536]);
    const grid = (t: number, h: number, w: number) => new ort.Tensor("int64", BigInt64Array.from([t, h, w].map(BigInt)), [1, 3]);
    const out = await vision.run({ pixel_values: pixels, image_grid_thw: grid(1, 4, 4) });
    expect(out.image_features!.dims).toEqual([4, 16]);
    expect(Array.from((out.image_features!.data as Float32Array).slice(0, 3))).toEqual([0, 0.5, 1]);
    await expect(vision.run({ pixel_values: pixels, image_grid_thw: grid(1, 4, 6) })).rejects.toThrow(/Reshape/);
    await expect(vision.run({ pixel_values: pixels, image_grid_thw: grid(1, 2, 4) })).rejects.toThrow(/Reshape/);
  });
});
