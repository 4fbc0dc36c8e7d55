/**
 * The recogniser's output, cut down in its graph to what CTC decoding uses: per step, the K most
 * probable classes (TopK) and the blank's probability. The full [1, steps, 6625] tensor was about
 * 1 MB a crop copied out of ONNX Runtime, scanned in JavaScript and left to the garbage collector
 * (some 50 MB a receipt, whose collections showed in the page time); the prefix beam search
 * (ctc.ts) needs only the few classes that carry the probability.
 */
import type { Graph } from "./graph.js";

/** Output names of the rewritten recogniser. */
export const TOP_IDS_OUTPUT = "qwen_ocr_top_ids";
export const TOP_PROBS_OUTPUT = "qwen_ocr_top_probs";
export const BLANK_OUTPUT = "qwen_ocr_blank";

/** Classes kept per step. */
export const TOP_K = 5;

/** Replaces the graph's single [batch, steps, classes] output by its top-K classes and the blank's probability. */
export function addCtcHead(g: Graph, k = TOP_K): boolean {
  const outputs = g.graph.output ?? [];
  const probs = outputs[0]?.name;
  const rank = outputs[0]?.type?.tensorType?.shape?.dim?.length;
  if (outputs.length !== 1 || !probs || rank !== 3) return false;
  const { onnx } = g;
  const { INT, INTS } = onnx.AttributeProto.AttributeType;
  const int = (name: string, i: number) => onnx.AttributeProto.create({ name, type: INT, i });
  const ints = (name: string, value: number) => onnx.AttributeProto.create({ name, type: INTS, ints: [value] });
  const i64 = (name: string, value: number) => g.addTensor(name, BigInt64Array.of(BigInt(value)), [1]);
  // Opset 10 made TopK's k and Slice's bounds inputs (the shipped recogniser is opset 9).
  const modern = g.opset >= 10;
  g.graph.node = [
    ...g.nodes,
    onnx.NodeProto.create({
      opType: "TopK",
      input: modern ? [probs, i64("ctc_k", k)] : [probs],
      output: [TOP_PROBS_OUTPUT, TOP_IDS_OUTPUT],
      attribute: modern ? [int("axis", 2)] : [int("axis", 2), int("k", k)],
    }),
    onnx.NodeProto.create({
      opType: "Slice",
      input: modern ? [probs, i64("ctc_blank_start", 0), i64("ctc_blank_end", 1), i64("ctc_blank_axis", 2)] : [probs],
      output: [BLANK_OUTPUT],
      attribute: modern ? [] : [ints("starts", 0), ints("ends", 1), ints("axes", 2)],
    }),
  ];
  const info = (name: string, elemType: number) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType } } });
  const { INT64, FLOAT } = onnx.TensorProto.DataType;
  g.graph.output = [info(TOP_IDS_OUTPUT, INT64), info(TOP_PROBS_OUTPUT, FLOAT), info(BLANK_OUTPUT, FLOAT)];
  g.index();
  return true;
}
