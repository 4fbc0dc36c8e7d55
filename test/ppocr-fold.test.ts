// The recogniser's graph rewrite (src/engines/ppocr/fold.ts) must change speed, never answers:
// the folded model is run beside the original on the same inputs.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import onnxProto from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";
import * as ort from "onnxruntime-node";
import { foldAffine } from "../src/engines/ppocr/fold.js";
import { locateModels } from "../src/engines/ppocr/models.js";
import { noise } from "./helpers/noise.js";

const { onnx } = onnxProto;
const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, logSeverityLevel: 3 };


async function run(model: Uint8Array, dims: number[], data: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, options);
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor("float32", data, dims) });
    return out[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

const nodeCount = (bytes: Uint8Array) => onnx.ModelProto.decode(bytes).graph?.node?.length ?? 0;

describe("the PP-OCRv4 recogniser, folded", () => {
  const file = locateModels().files?.recognition;

  it("gives the same probabilities with fewer nodes", async () => {
    expect(file).toBeDefined();
    const original = new Uint8Array(readFileSync(file as string));
    const { bytes, report } = foldAffine(original);
    expect(report.backward).toBeGreaterThan(0);
    expect(report.hardSwish).toBeGreaterThan(0);
    expect(report.forward).toBeGreaterThan(0);
    expect(nodeCount(bytes)).toBeLessThan(nodeCount(original) * 0.8);
    for (const width of [40, 320]) {
      const dims = [1, 3, 48, width];
      const data = noise(3 * 48 * width, width);
      const d = maxDiff(await run(original, dims, data), await run(bytes, dims, data));
      expect(d).toBeLessThan(1e-4);
    }
  });
});

// A small graph: Conv → Mul(2) → Add(0.5) → [x·3 hard-swish chain] → Mul → Add → Conv (pads as given).
function tinyModel(secondPads: number): Uint8Array {
  const f = (name: string, dims: number[], values: number[]): OnnxTypes.ITensorProto =>
    onnx.TensorProto.create({ name, dataType: 1, dims, floatData: values });
  const attr = (name: string, ints: number[]) =>
    onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });
  const clipAttr = (name: string, v: number) =>
    onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v });
  const w1 = Array.from(noise(2 * 2 * 9, 3));
  const w2 = Array.from(noise(2 * 2 * 9, 5));
  const node = (opType: string, input: string[], output: string[], attribute: OnnxTypes.IAttributeProto[] = []) =>
    onnx.NodeProto.create({ opType, input, output, attribute });
  const graph = onnx.GraphProto.create({
    name: "tiny",
    initializer: [
      f("w1", [2, 2, 3, 3], w1),
      f("b1", [2], [0.1, -0.2]),
      f("two", [1], [2]),
      f("half", [1], [0.5]),
      f("three", [], [3]),
      f("six", [], [6]),
      f("s", [1, 2, 1, 1], [0.7, 1.3]),
      f("t", [1, 2, 1, 1], [0.25, -0.4]),
      f("w2", [2, 2, 3, 3], w2),
    ],
    node: [
      node("Conv", ["x", "w1", "b1"], ["c1"], [attr("pads", [1, 1, 1, 1]), attr("kernel_shape", [3, 3])]),
      node("Mul", ["two", "c1"], ["m1"]),
      node("Add", ["m1", "half"], ["a1"]),
      node("Add", ["a1", "three"], ["h1"]),
      node("Clip", ["h1"], ["h2"], [clipAttr("min", 0), clipAttr("max", 6)]),
      node("Mul", ["a1", "h2"], ["h3"]),
      node("Div", ["h3", "six"], ["hs"]),
      node("Mul", ["hs", "s"], ["m2"]),
      node("Add", ["m2", "t"], ["a2"]),
      node("Conv", ["a2", "w2"], ["y"], [attr("pads", Array(4).fill(secondPads)), attr("kernel_shape", [3, 3])]),
    ],
    input: [valueInfo("x", [1, 2, 6, 6])],
    output: [valueInfo("y", [1, 2, 6 + 2 * secondPads - 2, 6 + 2 * secondPads - 2])],
  });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: "", version: 9 }], graph }),
  ).finish();
}

function valueInfo(name: string, dims: number[]): OnnxTypes.IValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
}

describe("foldAffine on a small graph", () => {
  const data = noise(2 * 6 * 6, 11);

  it("folds the affine steps on both sides and rewrites the hard-swish", async () => {
    const model = tinyModel(0);
    const { bytes, report } = foldAffine(model);
    expect(report).toEqual({ backward: 2, hardSwish: 1, forward: 1 });
    expect(nodeCount(bytes)).toBe(4); // Conv, HardSigmoid, Mul, Conv
    expect(maxDiff(await run(model, [1, 2, 6, 6], data), await run(bytes, [1, 2, 6, 6], data))).toBeLessThan(1e-5);
  });

  it("does not fold forward into a padded Conv, whose border would change", async () => {
    const model = tinyModel(1);
    const { bytes, report } = foldAffine(model);
    expect(report).toEqual({ backward: 2, hardSwish: 1, forward: 0 });
    expect(maxDiff(await run(model, [1, 2, 6, 6], data), await run(bytes, [1, 2, 6, 6], data))).toBeLessThan(1e-5);
  });

  it("leaves a model without the patterns as it was", () => {
    const empty = onnx.ModelProto.encode(
      onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: "", version: 9 }], graph: { name: "g", node: [] } }),
    ).finish();
    expect(foldAffine(empty).report).toEqual({ backward: 0, hardSwish: 0, forward: 0 });
  });
});

describe("the CTC head (src/engines/ppocr/ctc-head.ts)", () => {
  it("returns each step's most probable classes and the blank's probability, as topCandidates finds them in the full output", async () => {
    const { rewriteModel } = await import("../src/engines/ppocr/graph.js");
    const { foldGraph } = await import("../src/engines/ppocr/fold.js");
    const { addCtcHead, BLANK_OUTPUT, TOP_IDS_OUTPUT, TOP_K, TOP_PROBS_OUTPUT } = await import("../src/engines/ppocr/ctc-head.js");
    const { beamDecode, greedyDecode, topCandidates } = await import("../src/engines/ppocr/ctc.js");
    const file = locateModels().files?.recognition;
    expect(file).toBeDefined();
    const original = new Uint8Array(readFileSync(file as string));
    const folded = rewriteModel(original, (g) => void foldGraph(g));
    let added = false;
    const headed = rewriteModel(original, (g) => {
      foldGraph(g);
      added = addCtcHead(g);
    });
    expect(added).toBe(true);
    // A real line: the shipped receipt's heading, at the recogniser's height.
    const { default: sharp } = await import("sharp");
    const { rgbToChw, SYMMETRIC } = await import("../src/engines/ppocr/image.js");
    const line = await sharp("fixtures/samples/receipt.png")
      .extract({ left: 228, top: 40, width: 276, height: 40 })
      .resize({ height: 48 })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const { width } = line.info;
    const input = new ort.Tensor("float32", rgbToChw(new Uint8Array(line.data), width, 48, SYMMETRIC), [1, 3, 48, width]);
    const full = await ort.InferenceSession.create(folded, options);
    const head = await ort.InferenceSession.create(headed, options);
    try {
      expect(head.outputNames).toEqual([TOP_IDS_OUTPUT, TOP_PROBS_OUTPUT, BLANK_OUTPUT]);
      const probs = (await full.run({ [full.inputNames[0]]: input }))[full.outputNames[0]];
      const want = topCandidates(probs.data as Float32Array, probs.dims[1], probs.dims[2], TOP_K);
      const out = await head.run({ [head.inputNames[0]]: input });
      expect(out[TOP_IDS_OUTPUT].dims).toEqual([1, want.steps, TOP_K]);
      expect(Array.from(out[TOP_IDS_OUTPUT].data as BigInt64Array, Number)).toEqual(Array.from(want.ids));
      expect(Array.from(out[TOP_PROBS_OUTPUT].data as Float32Array)).toEqual(Array.from(want.probs));
      expect(Array.from(out[BLANK_OUTPUT].data as Float32Array)).toEqual(Array.from(want.blank));
      const { readCharacters } = await import("../src/engines/ppocr/models.js");
      const characters = await readCharacters(locateModels().files?.dictionary as string);
      expect(greedyDecode(want, characters).text).toContain("GREENLEAF");
      expect(beamDecode(want, characters).text).toContain("GREENLEAF");
    } finally {
      await Promise.all([full.release(), head.release()]);
    }
  });
});
