/**
 * A recognition lane in a worker thread: its own ONNX Runtime session (one thread) on the
 * recogniser's bytes, answering each crop with its greedy CTC path. onnxruntime-node's `run`
 * blocks the thread that calls it, so a second core can only be used from a second thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import * as ort from "onnxruntime-node";
import { greedyPath } from "./ctc.js";
import type { LaneReply, LaneRequest, LaneSetup } from "./lanes.js";

const setup = workerData as LaneSetup;
const port = parentPort;
if (!port) throw new Error("rec-worker.js runs only as a worker thread");

const session = await ort.InferenceSession.create(setup.model, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: "sequential",
  graphOptimizationLevel: "all",
});
const input = session.inputNames[0];
const output = session.outputNames[0];

port.on("message", async (req: LaneRequest) => {
  try {
    const result = await session.run({ [input]: new ort.Tensor("float32", req.data, req.dims) });
    const out = result[output];
    if (!out || !(out.data instanceof Float32Array)) throw new Error(`model output ${output} is not float32`);
    const path = greedyPath(out.data, out.dims[1] ?? 0, out.dims[2] ?? 0);
    const reply: LaneReply = { id: req.id, best: path.best, prob: path.prob };
    port.postMessage(reply, [path.best.buffer, path.prob.buffer]);
  } catch (error) {
    const reply: LaneReply = { id: req.id, error: error instanceof Error ? error.message : String(error) };
    port.postMessage(reply);
  }
});
port.postMessage({ ready: true });
