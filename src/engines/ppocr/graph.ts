/**
 * An editable view of an ONNX graph for the load-time rewrites of the recogniser (fold.ts,
 * quantize.ts): its constants, who produces and who reads each tensor, and the Conv parameters.
 */
import onnxProto from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";

export type INode = OnnxTypes.INodeProto;
type ITensor = OnnxTypes.ITensorProto;

const FLOAT = 1;
const INT8 = 3;
const INT64 = 7;

/**
 * Decodes a model, lets `edit` change its graph, and encodes it again. A model without a graph
 * comes back as it was.
 */
export function rewriteModel(bytes: Uint8Array, edit: (g: Graph) => void): Uint8Array {
  const { onnx } = onnxProto;
  const model = onnx.ModelProto.decode(bytes);
  if (!model.graph) return bytes;
  const opset = Number(model.opsetImport?.find((o) => !o.domain)?.version ?? 1);
  const g = new Graph(model.graph, onnx, opset);
  edit(g);
  g.dropUnused();
  if (g.domains.size) {
    const imports = model.opsetImport ?? [];
    for (const domain of g.domains) if (!imports.some((o) => o.domain === domain)) imports.push({ domain, version: 1 });
    model.opsetImport = imports;
  }
  return onnx.ModelProto.encode(model).finish();
}

export class Graph {
  readonly tensors = new Map<string, ITensor>();
  consumers = new Map<string, INode[]>();
  producers = new Map<string, INode>();
  outputs = new Set<string>();
  private created = 0;
  /** Operator domains besides the default one that new nodes use (their opset is imported). */
  readonly domains = new Set<string>();

  constructor(
    readonly graph: OnnxTypes.IGraphProto,
    readonly onnx: typeof onnxProto.onnx,
    /** The model's default-domain opset, which decides some operators' form. */
    readonly opset: number,
  ) {
    for (const t of graph.initializer ?? []) if (t.name) this.tensors.set(t.name, t);
    for (const n of this.nodes) {
      const attr = n.attribute?.[0];
      if (n.opType === "Constant" && attr?.name === "value" && attr.t && n.output?.[0]) this.tensors.set(n.output[0], attr.t);
    }
    this.index();
  }

  get nodes(): INode[] {
    return this.graph.node ?? [];
  }

  index(): void {
    this.consumers = new Map();
    this.producers = new Map();
    this.outputs = new Set((this.graph.output ?? []).map((o) => o.name ?? ""));
    for (const n of this.nodes) {
      for (const i of n.input ?? []) this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
      for (const o of n.output ?? []) this.producers.set(o, n);
    }
  }

  remove(drop: Set<INode>): void {
    if (!drop.size) return;
    this.graph.node = this.nodes.filter((n) => !drop.has(n));
    this.index();
  }

  /** The node that alone reads `name` (and `name` is not a graph output). */
  only(name: string): INode | undefined {
    const c = this.consumers.get(name) ?? [];
    return c.length === 1 && !this.outputs.has(name) ? c[0] : undefined;
  }

  floats(name: string | undefined): Float32Array | undefined {
    const t = name === undefined ? undefined : this.tensors.get(name);
    if (!t || t.dataType !== FLOAT) return undefined;
    const raw = t.rawData;
    if (raw && raw.length) {
      const copy = new Uint8Array(raw);
      return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
    }
    return Float32Array.from(t.floatData ?? []);
  }

  dims(name: string): number[] | undefined {
    return this.tensors.get(name)?.dims?.map((d) => Number(d));
  }

  /** The input of `node` that is not a constant, when exactly one is. */
  variableInput(node: INode): string | undefined {
    const vars = (node.input ?? []).filter((i) => !this.tensors.has(i));
    return vars.length === 1 ? vars[0] : undefined;
  }

  constantInput(node: INode): Float32Array | undefined {
    const consts = (node.input ?? []).filter((i) => this.tensors.has(i));
    return consts.length === 1 && (node.input ?? []).length === 2 ? this.floats(consts[0]) : undefined;
  }

  addTensor(prefix: string, data: Float32Array | Int8Array | BigInt64Array, dims: number[]): string {
    const name = `qwen_ocr_${prefix}_${this.created++}`;
    const dataType = data instanceof Float32Array ? FLOAT : data instanceof Int8Array ? INT8 : INT64;
    const t = this.onnx.TensorProto.create({ name, dataType, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    (this.graph.initializer ??= []).push(t);
    this.tensors.set(name, t);
    return name;
  }

  /** A name no tensor has yet, for a new node's output. */
  newName(prefix: string): string {
    return `qwen_ocr_${prefix}_${this.created++}`;
  }

  /** Conv weights as [cout, cin per group, kernel…] plus a bias, copied so that they can be changed. */
  convParams(conv: INode): { w: Float32Array; b: Float32Array; dims: number[] } | undefined {
    const [, wName, bName] = conv.input ?? [];
    const dims = wName ? this.dims(wName) : undefined;
    const w = this.floats(wName);
    if (!dims || dims.length < 3 || !w) return undefined;
    const b = bName ? this.floats(bName) : new Float32Array(dims[0]);
    if (!b || b.length !== dims[0]) return undefined;
    return { w: w.slice(), b: b.slice(), dims };
  }

  setConvParams(conv: INode, w: Float32Array, b: Float32Array, dims: number[]): void {
    const input = conv.input ?? [];
    conv.input = [input[0], this.addTensor("w", w, dims), this.addTensor("b", b, [dims[0]])];
  }

  /** Drops the constants and initializers nothing reads any more (ONNX Runtime warns about each). */
  dropUnused(): void {
    const used = new Set([...this.consumers.keys(), ...this.outputs]);
    this.graph.node = this.nodes.filter((n) => n.opType !== "Constant" || used.has(n.output?.[0] ?? ""));
    this.graph.initializer = (this.graph.initializer ?? []).filter((t) => used.has(t.name ?? ""));
  }
}
