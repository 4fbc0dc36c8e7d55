/**
 * The recogniser's greedy CTC step, moved into its graph: instead of its [1, steps, 6625]
 * probabilities it returns, per step, the best class (ArgMax) and that class's probability
 * (ReduceMax). Greedy decoding needs nothing more, and the full tensor was about 1 MB a crop
 * copied out of ONNX Runtime, scanned in JavaScript and left to the garbage collector (some
 * 50 MB a receipt, whose collections showed in the page time).
 */
import type { Graph } from "./graph.js";

/** Output names of the rewritten recogniser. */
export const BEST_OUTPUT = "qwen_ocr_best";
export const PROB_OUTPUT = "qwen_ocr_prob";

/** Replaces the graph's single [batch, steps, classes] output by its argmax and max over classes. */
export function addGreedyHead(g: Graph): boolean {
  const outputs = g.graph.output ?? [];
  const probs = outputs[0]?.name;
  const rank = outputs[0]?.type?.tensorType?.shape?.dim?.length;
  if (outputs.length !== 1 || !probs || rank !== 3) return false;
  const { onnx } = g;
  const { INT, INTS } = onnx.AttributeProto.AttributeType;
  const keep = onnx.AttributeProto.create({ name: "keepdims", type: INT, i: 0 });
  g.graph.node = [
    ...g.nodes,
    onnx.NodeProto.create({
      opType: "ArgMax",
      input: [probs],
      output: [BEST_OUTPUT],
      attribute: [onnx.AttributeProto.create({ name: "axis", type: INT, i: 2 }), keep],
    }),
    // Opset 18 made ReduceMax's axes an input.
    g.opset >= 18
      ? onnx.NodeProto.create({ opType: "ReduceMax", input: [probs, g.addTensor("axes", BigInt64Array.of(2n), [1])], output: [PROB_OUTPUT], attribute: [keep] })
      : onnx.NodeProto.create({
          opType: "ReduceMax",
          input: [probs],
          output: [PROB_OUTPUT],
          attribute: [onnx.AttributeProto.create({ name: "axes", type: INTS, ints: [2] }), keep],
        }),
  ];
  const info = (name: string, elemType: number) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType } } });
  g.graph.output = [info(BEST_OUTPUT, onnx.TensorProto.DataType.INT64), info(PROB_OUTPUT, onnx.TensorProto.DataType.FLOAT)];
  g.index();
  return true;
}
