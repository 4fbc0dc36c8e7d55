// The recogniser's int8 rewrite (src/engines/ppocr/quantize.ts): which convolutions it takes, that
// the rewritten graph computes the same thing within 8-bit error, and the weight range per CPU.
import { describe, expect, it } from "vitest";
import onnxProto from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";
import * as ort from "onnxruntime-node";
import { rewriteModel } from "../src/engines/ppocr/graph.js";
import { quantizePointwise, weightRange } from "../src/engines/ppocr/quantize.js";
import { noise } from "./helpers/noise.js";

const { onnx } = onnxProto;


interface ConvSpec {
  cout: number;
  cin: number;
  kernel?: number;
  stride?: number;
}

/** x [1, cin, 4, 6] → Conv → y, with the given shape and stride (no padding). */
function convModel({ cout, cin, kernel = 1, stride = 1 }: ConvSpec): Uint8Array {
  const ints = (name: string, v: number[]) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: v });
  const h = Math.floor((4 - kernel) / stride) + 1;
  const w = Math.floor((6 - kernel) / stride) + 1;
  const info = (name: string, dims: number[]) =>
    onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } });
  const graph = onnx.GraphProto.create({
    name: "conv",
    initializer: [
      onnx.TensorProto.create({ name: "w", dataType: 1, dims: [cout, cin, kernel, kernel], floatData: Array.from(noise(cout * cin * kernel * kernel, 3)) }),
      onnx.TensorProto.create({ name: "b", dataType: 1, dims: [cout], floatData: Array.from(noise(cout, 5)) }),
    ],
    node: [
      onnx.NodeProto.create({
        opType: "Conv",
        input: ["x", "w", "b"],
        output: ["y"],
        attribute: [ints("kernel_shape", [kernel, kernel]), ints("strides", [stride, stride])],
      }),
    ],
    input: [info("x", [1, cin, 4, 6])],
    output: [info("y", [1, cout, h, w])],
  });
  const model: OnnxTypes.IModelProto = { irVersion: 8, opsetImport: [{ domain: "", version: 9 }], graph };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

async function run(model: Uint8Array, data: Float32Array, cin: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    const out = await session.run({ x: new ort.Tensor("float32", data, [1, cin, 4, 6]) });
    return out.y.data as Float32Array;
  } finally {
    await session.release();
  }
}

function quantized(model: Uint8Array, range: number): { bytes: Uint8Array; count: number } {
  let count = 0;
  const bytes = rewriteModel(model, (g) => {
    count = quantizePointwise(g, range);
  });
  return { bytes, count };
}

describe("quantizePointwise", () => {
  it("turns a wide 1×1 convolution into an int8 product that agrees within 8-bit error", async () => {
    const spec = { cout: 256, cin: 128 };
    const model = convModel(spec);
    const data = noise(128 * 24, 11).map((v) => v * 3);
    const want = await run(model, data, 128);
    // 8-bit weights only where this CPU gets them: ONNX Runtime's AVX2 kernel adds pairs of u8·s8
    // products in 16 bits, which 8-bit weights saturate (0.22 relative error here), and which is
    // why weightRange() gives 7 bits there.
    for (const range of weightRange() === 127 ? [127, 63] : [63]) {
      const { bytes, count } = quantized(model, range);
      expect(count).toBe(1);
      const ops = onnx.ModelProto.decode(bytes).graph?.node?.map((n) => n.opType);
      expect(ops).toEqual(["Transpose", "DynamicQuantizeMatMul", "Transpose"]);
      const got = await run(bytes, data, 128);
      expect(got.length).toBe(want.length);
      const scale = Math.max(...want.map(Math.abs));
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      // Exact would be 0; a layout or scale mistake is off by the order of the values themselves.
      expect(worst).toBeGreaterThan(0);
      expect(worst / scale).toBeLessThan(range === 127 ? 0.03 : 0.05);
    }
  });

  it("leaves narrow, strided and spatial convolutions in float", () => {
    for (const spec of [
      { cout: 64, cin: 64 },
      { cout: 256, cin: 64 },
      { cout: 256, cin: 128, stride: 2 },
      { cout: 256, cin: 128, kernel: 3 },
    ]) {
      const { bytes, count } = quantized(convModel(spec), 127);
      expect(count, JSON.stringify(spec)).toBe(0);
      expect(onnx.ModelProto.decode(bytes).opsetImport?.map((o) => o.domain)).toEqual([""]);
    }
  });
});

describe("ppocr's default precision", () => {
  it("is int8 where 8-bit weights run unsaturated, fp32 where they would need 7 bits", async () => {
    const { defaultDtype } = await import("../src/engines/ppocr/index.js");
    expect(defaultDtype(127)).toBe("int8");
    expect(defaultDtype(63)).toBe("fp32");
  });
});

describe("weightRange", () => {
  it("uses 8 bits where int8 dot products exist and 7 where 16-bit pair sums could saturate", () => {
    expect(weightRange("arm64", () => "")).toBe(127);
    expect(weightRange("x64", () => "flags : fpu sse2 avx2 avx512f avx512_vnni")).toBe(127);
    expect(weightRange("x64", () => "flags : fpu sse2 avx2 avx_vnni")).toBe(127);
    expect(weightRange("x64", () => "flags : fpu sse2 avx2 fma")).toBe(63);
    expect(weightRange("x64", () => "")).toBe(63);
  });
});

describe("the PP-OCRv4 recogniser, quantized", () => {
  it("has its nine wide backbone layers in int8, and fp32 has none", async () => {
    const { locateModels, recognizerModel } = await import("../src/engines/ppocr/models.js");
    const file = locateModels().files?.recognition;
    expect(file).toBeDefined();
    const bytes = await recognizerModel(file as string, true);
    const ops = onnx.ModelProto.decode(bytes).graph?.node?.map((n) => n.opType) ?? [];
    expect(ops.filter((op) => op === "DynamicQuantizeMatMul")).toHaveLength(9);
    const float = await recognizerModel(file as string, false);
    expect(onnx.ModelProto.decode(float).graph?.node?.some((n) => n.opType === "DynamicQuantizeMatMul")).toBe(false);
  });
});

describe("ppocr's result-cache identity", () => {
  it("tells int8 from fp32 and settings apart, and ignores threads", async () => {
    const { ppocr } = await import("../src/engines/ppocr/index.js");
    const { engineIdentity } = await import("../src/cache/key.js");
    const key = async (options: Record<string, unknown>) => JSON.stringify(await engineIdentity(ppocr, options));
    const base = await key({ dtype: "int8" });
    expect(await key({ threads: 1, dtype: "int8" })).toBe(base);
    expect(await key({ dtype: "fp32" })).not.toBe(base);
    expect(await key({ padX: 0.3, dtype: "int8" })).not.toBe(base);
    expect(base).toContain('"dtype":"int8"');
    // No --dtype: the precision this CPU gets by default, keyed as if it had been asked for.
    const { defaultDtype } = await import("../src/engines/ppocr/index.js");
    expect(await key({})).toBe(await key({ dtype: defaultDtype() }));
    await expect(engineIdentity(ppocr, { dtype: "q4" })).rejects.toThrow(/ppocr: --dtype q4/);
  });
});
