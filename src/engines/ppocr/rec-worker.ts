/**
 * A lane in a worker thread: its own single-thread ONNX Runtime sessions of the recogniser and
 * the direction classifier. It samples its crops from the page it was last sent and answers with
 * a crop's CTC candidates or a batch's directions. onnxruntime-node's `run` blocks the thread that
 * calls it, so a second core can only be used from a second thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { RgbImage } from "../../types.js";
import { runJob, type LaneReply, type LaneRequest, type LaneSetup } from "./lanes.js";
import { createModel, loadRuntime, ModelClock } from "./models.js";
import { Scratch } from "./scratch.js";

const setup = workerData as LaneSetup;
const port = parentPort;
if (!port) throw new Error("rec-worker.js runs only as a worker thread");

const rt = await loadRuntime();
// The main thread keeps the engine's clock; this one only satisfies the Model shape.
const clock = new ModelClock();
const [recognizer, classifier] = await Promise.all([createModel(rt, setup.recognizer, 1, clock), createModel(rt, setup.classifier, 1, clock)]);

let page: RgbImage | undefined;
const scratch = new Scratch();

port.on("message", async (req: LaneRequest) => {
  try {
    if (req.image) page = req.image;
    if (!page) throw new Error("recognition worker: a crop came before its page");
    const result = await runJob(rt, { recognizer, classifier }, page, req.job, scratch);
    const reply: LaneReply = { id: req.id, result };
    port.postMessage(reply, "ids" in result ? [result.ids.buffer, result.probs.buffer, result.blank.buffer] : [result.flipped.buffer]);
  } catch (error) {
    const reply: LaneReply = { id: req.id, error: error instanceof Error ? error.message : String(error) };
    port.postMessage(reply);
  }
});
port.postMessage({ ready: true });
