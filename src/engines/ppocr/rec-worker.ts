/**
 * A recognition lane in a worker thread: its own ONNX Runtime session (one thread) on the
 * recogniser's bytes; it samples each crop from the page it was last sent and answers with the
 * crop's greedy CTC path. onnxruntime-node's `run`
 * blocks the thread that calls it, so a second core can only be used from a second thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { RgbImage } from "../../types.js";
import { readCrop, type LaneReply, type LaneRequest, type LaneSetup } from "./lanes.js";
import { createModel, loadRuntime, ModelClock } from "./models.js";

const setup = workerData as LaneSetup;
const port = parentPort;
if (!port) throw new Error("rec-worker.js runs only as a worker thread");

const rt = await loadRuntime();
// The main thread keeps the engine's clock; this one only satisfies the Model shape.
const model = await createModel(rt, setup.model, 1, new ModelClock());

let page: RgbImage | undefined;

port.on("message", async (req: LaneRequest) => {
  try {
    if (req.image) page = req.image;
    if (!page) throw new Error("recognition worker: a crop came before its page");
    const path = await readCrop(rt, model, page, req.job);
    const reply: LaneReply = { id: req.id, best: path.best, prob: path.prob };
    port.postMessage(reply, [path.best.buffer, path.prob.buffer]);
  } catch (error) {
    const reply: LaneReply = { id: req.id, error: error instanceof Error ? error.message : String(error) };
    port.postMessage(reply);
  }
});
port.postMessage({ ready: true });
