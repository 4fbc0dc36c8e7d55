/**
 * 8-bit weights for the recogniser's wide pointwise convolutions, at load time.
 *
 * After fold.ts, three quarters of a line crop's time is the backbone's 1×1 convolutions: plain
 * float matrix products that already run near the core's peak. ONNX Runtime's int8 matrix
 * product (com.microsoft.DynamicQuantizeMatMul: the activations quantized per run, the weights
 * per output channel) does the same products 3–4× faster on cores with int8 dot-product
 * instructions (AVX-512 VNNI, AVX-VNNI, Arm dot product). It multiplies [rows, in] by [in, out],
 * so each convolution becomes Transpose (NCHW → NHWC) → int8 product with bias → Transpose back.
 *
 * Only the backbone's wide layers change (at least MIN_IN input and MIN_OUT output channels):
 * they carry most of the time. Quantizing the narrow stem and neck as well saved little more and
 * cost key fields on the SROIE set (122 of 160 instead of 125); with these layers alone, the eval
 * scores match the float model's (see the README).
 *
 * Without int8 dot products (x86 with AVX2 only, e.g. most CI runners), ONNX Runtime's kernel adds
 * pairs of u8·s8 products in 16 bits, which can saturate; ONNX Runtime's advice is 7-bit weights
 * there, and weightRange() gives them.
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import type { Graph, INode } from "./graph.js";

const MIN_IN = 128;
const MIN_OUT = 240;

/** The largest |weight| after quantizing: 127, or 63 where 16-bit pair sums could saturate. */
export function weightRange(arch: string = os.arch(), cpuinfo: () => string = readCpuinfo): 127 | 63 {
  if (arch !== "x64" && arch !== "ia32") return 127;
  return /\b(avx512_vnni|avx_vnni)\b/.test(cpuinfo()) ? 127 : 63;
}

let cpuinfoText: string | undefined;

/**
 * /proc/cpuinfo, read once a process: the default precision, the cache key and the quantizer all
 * ask for the weight range.
 */
function readCpuinfo(): string {
  if (cpuinfoText === undefined) {
    try {
      cpuinfoText = readFileSync("/proc/cpuinfo", "utf8");
    } catch {
      cpuinfoText = ""; // not Linux: assume the cautious range
    }
  }
  return cpuinfoText;
}

/** Rewrites the wide 1×1 convolutions as int8 matrix products; returns how many. */
export function quantizePointwise(g: Graph, range: number = weightRange()): number {
  let count = 0;
  const nodes: INode[] = [];
  for (const conv of g.nodes) {
    const replaced = conv.opType === "Conv" ? replacement(g, conv, range) : undefined;
    if (replaced) {
      nodes.push(...replaced);
      count++;
    } else nodes.push(conv);
  }
  if (count) {
    g.graph.node = nodes;
    g.domains.add("com.microsoft");
    g.index();
  }
  return count;
}

function replacement(g: Graph, conv: INode, range: number): INode[] | undefined {
  const attrs = new Map((conv.attribute ?? []).map((a) => [a.name, a]));
  const ones = (name: string) => (attrs.get(name)?.ints ?? []).every((v) => Number(v) === 1);
  const zeros = (name: string) => (attrs.get(name)?.ints ?? []).every((v) => Number(v) === 0);
  const autoPad = attrs.get("auto_pad")?.s;
  if (autoPad && autoPad.length && new TextDecoder().decode(autoPad) !== "NOTSET") return undefined;
  if (Number(attrs.get("group")?.i ?? 1) !== 1 || !ones("strides") || !ones("dilations") || !zeros("pads")) return undefined;
  const x = conv.input?.[0];
  const y = conv.output?.[0];
  const params = g.convParams(conv);
  if (!x || !y || !params) return undefined;
  const { w, b, dims } = params;
  const [cout, cin, kh, kw] = dims;
  if (dims.length !== 4 || kh !== 1 || kw !== 1 || cin < MIN_IN || cout < MIN_OUT) return undefined;

  const { q, scale } = quantizeRows(w, cout, cin, range);
  const { onnx } = g;
  const perm = (p: number[]) => [onnx.AttributeProto.create({ name: "perm", type: onnx.AttributeProto.AttributeType.INTS, ints: p })];
  const nhwc = g.newName("nhwc");
  const product = g.newName("int8");
  return [
    onnx.NodeProto.create({ opType: "Transpose", input: [x], output: [nhwc], attribute: perm([0, 2, 3, 1]) }),
    onnx.NodeProto.create({
      opType: "DynamicQuantizeMatMul",
      domain: "com.microsoft",
      // A, B, b_scale, b_zero_point (none: symmetric), bias
      input: [nhwc, g.addTensor("wq", q, [cin, cout]), g.addTensor("ws", scale, [cout]), "", g.addTensor("b", b, [cout])],
      output: [product],
    }),
    onnx.NodeProto.create({ opType: "Transpose", input: [product], output: [y], attribute: perm([0, 3, 1, 2]) }),
  ];
}

/**
 * Symmetric int8 weights per output channel, the matrix stored [in, out] as the product wants it.
 * A function of its own so that V8 optimises its loops early (see fold.ts).
 */
function quantizeRows(w: Float32Array, cout: number, cin: number, range: number): { q: Int8Array; scale: Float32Array } {
  const scale = new Float32Array(cout);
  const q = new Int8Array(cin * cout);
  for (let o = 0; o < cout; o++) {
    const row = o * cin;
    let max = 0;
    for (let i = 0; i < cin; i++) max = Math.max(max, Math.abs(w[row + i]));
    const s = max > 0 ? max / range : 1;
    scale[o] = s;
    for (let i = 0; i < cin; i++) q[i * cout + o] = Math.round(w[row + i] / s);
  }
  return { q, scale };
}
