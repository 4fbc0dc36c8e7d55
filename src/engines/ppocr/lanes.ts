/**
 * Recognition lanes: sessions of the recogniser and the direction classifier on the main thread
 * plus sessions in worker threads, so that a page's line crops are classified and read on all
 * cores at once. onnxruntime-node runs a model on the
 * thread that calls it, and one session's intra-op threads barely help on crops this small
 * (a 320-px crop: 1 thread 19 ms, 2 threads 11–14 ms), while two single-thread sessions read two
 * crops in the time of one. Each lane also samples its own crops from the page (shared with the
 * workers, not copied to each): on the main thread alone, sampling kept the workers waiting.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { RgbImage } from "../../types.js";
import { topCandidates, type CtcCandidates } from "./ctc.js";
import type { Quad } from "./geometry.js";
import { sampleQuad, SYMMETRIC } from "./image.js";
import { classifyBatch } from "./classify.js";
import { dropRedInkInTensor } from "./red-ink.js";
import { Scratch } from "./scratch.js";
import { BLANK_OUTPUT, TOP_IDS_OUTPUT, TOP_K, TOP_PROBS_OUTPUT } from "./ctc-head.js";
import { runSession, type Model, type Runtime } from "./models.js";

/** What a worker lane is started with: the models' ONNX bytes (the recogniser's rewritten). */
export interface LaneSetup {
  recognizer: Uint8Array;
  classifier: Uint8Array;
}

/** The main thread's sessions of the same models. */
export interface LaneModels {
  recognizer: Model;
  classifier: Model;
}

/** One line crop to read: the region inside `quad`, sampled `width` wide at the model's height. */
export interface CropJob {
  quad: Quad;
  width: number;
  /** The tensor's width: `width` plus blank columns on the right. */
  tensorWidth: number;
  height: number;
  /** Drop red ink out of the crop (a stamp over the line). */
  dropRed?: boolean;
}

/** A lane's work: read one line crop, or classify a batch of them (up or upside down). */
export type LaneJob = { kind: "read"; crop: CropJob } | { kind: "classify"; quads: Quad[] };

/** What a job gives back: the crop's CTC candidates, or each quad's probability of being flipped. */
export type LaneResult = CtcCandidates | { flipped: Float32Array<ArrayBuffer> };

export interface LaneRequest {
  id: number;
  job: LaneJob;
  /** The page, when it is not the one this lane last read from (its bytes in shared memory). */
  image?: RgbImage;
}

export type LaneReply = { id: number; result: LaneResult; error?: undefined } | { id: number; error: string };

/** Does one job with the given sessions: what every lane, main or worker, does. */
export function runJob(rt: Runtime, models: LaneModels, image: RgbImage, job: LaneJob, scratch: Scratch): Promise<LaneResult> {
  if (job.kind === "read") return readCrop(rt, models.recognizer, image, job.crop, scratch);
  return classifyBatch(rt, models.classifier, image, job.quads, scratch).then((flipped) => ({ flipped }));
}

/** Samples one crop, runs the recogniser on it and takes each step's most probable classes: what every lane does. */
export async function readCrop(rt: Runtime, model: Model, image: RgbImage, job: CropJob, scratch = new Scratch()): Promise<CtcCandidates> {
  const out = await scratch.use(3 * job.height * job.tensorWidth, (data) => {
    sampleQuad(image, job.quad, job.width, job.height, SYMMETRIC, data, job.tensorWidth);
    if (job.dropRed) dropRedInkInTensor(data, job.width, job.height, job.tensorWidth, SYMMETRIC);
    return runSession(rt, model, data, [1, 3, job.height, job.tensorWidth]);
  });
  const ids = out[TOP_IDS_OUTPUT];
  const probs = out[TOP_PROBS_OUTPUT]?.data;
  const blank = out[BLANK_OUTPUT]?.data;
  if (ids?.data instanceof BigInt64Array && probs instanceof Float32Array && blank instanceof Float32Array) {
    return { steps: ids.dims[1] ?? 0, k: ids.dims[2] ?? 0, ids: Int32Array.from(ids.data, Number), probs: Float32Array.from(probs), blank: Float32Array.from(blank) };
  }
  // A recogniser the rewrite could not read: its full probabilities.
  const full = out[model.output];
  if (!full || !(full.data instanceof Float32Array)) throw new Error(`model output ${model.output} is not float32`);
  return topCandidates(full.data, full.dims[1] ?? 0, full.dims[2] ?? 0, TOP_K);
}

/**
 * The page the workers sample from, in one SharedArrayBuffer reused from page to page (grown to
 * the largest page so far): a new buffer per page stayed alive until both threads had collected
 * it, which added some 60 MB to a run's peak. Pages are recognised one at a time (the engine
 * contract); should a second page's crops come while the first one's are in flight, that page
 * gets a buffer of its own.
 */
class SharedPage {
  private buffer: SharedArrayBuffer | undefined;
  private source: RgbImage | undefined;
  private view: RgbImage | undefined;
  /** Worker reads in flight from the page in the reused buffer. */
  private readers = 0;

  /** The page's bytes in shared memory, and a release for when the read is done. */
  acquire(image: RgbImage): { page: RgbImage; release: () => void } {
    if (this.source !== image && this.readers > 0) return { page: copyShared(image, new SharedArrayBuffer(image.data.length)), release: () => {} };
    if (this.source !== image || !this.view) {
      if (!this.buffer || this.buffer.byteLength < image.data.length) this.buffer = new SharedArrayBuffer(image.data.length);
      this.view = copyShared(image, this.buffer);
      this.source = image;
    }
    this.readers++;
    return { page: this.view, release: () => void this.readers-- };
  }
}

function copyShared(image: RgbImage, buffer: SharedArrayBuffer): RgbImage {
  const data = new Uint8Array(buffer, 0, image.data.length);
  data.set(image.data);
  return { data, width: image.width, height: image.height };
}

/** The compiled worker beside this module; absent when running from the TypeScript sources. */
export function workerScript(): URL | undefined {
  const url = new URL("./rec-worker.js", import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : undefined;
}

interface Pending {
  resolve: (result: LaneResult) => void;
  reject: (error: Error) => void;
}

class WorkerLane {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** The page the worker holds (the last one sent). */
  private page: RgbImage | undefined;
  /** Set once the thread is gone; its crops go to the main lane from then on. */
  dead: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (reply: LaneReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (!this.pending.size) worker.unref();
      if (reply.error !== undefined) p.reject(new Error(reply.error));
      else p.resolve(reply.result);
    });
    const fail = (error: Error) => {
      this.dead ??= error;
      for (const p of this.pending.values()) p.reject(this.dead);
      this.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`recognition worker exited with code ${code}`)));
  }

  static start(script: URL, setup: LaneSetup): Promise<WorkerLane> {
    // Not the parent's flags: `node --input-type=module -e …` would make the worker's start fail.
    const worker = new Worker(script, { workerData: setup, execArgv: [] });
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      const onExit = (code: number) => reject(new Error(`recognition worker exited with code ${code} while starting`));
      worker.once("error", onError);
      worker.once("exit", onExit);
      worker.once("message", () => {
        worker.off("error", onError);
        worker.off("exit", onExit);
        // An idle lane does not keep the process alive (an engine left unclosed must not hang
        // the CLI); it is ref'ed while a crop is in flight, so awaiting one still does.
        worker.unref();
        resolve(new WorkerLane(worker));
      });
    });
  }

  /** Does a job on `page`, a page in shared memory. */
  run(page: RgbImage, job: LaneJob): Promise<LaneResult> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    const request: LaneRequest = { id, job, image: page === this.page ? undefined : page };
    this.page = page;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    this.dead ??= new Error("the recognition worker was closed");
    await this.worker.terminate();
  }
}

export class RecognitionLanes {
  private readonly idle: Array<WorkerLane | "main">;
  private readonly waiting: Array<(lane: WorkerLane | "main") => void> = [];
  private readonly shared = new SharedPage();
  /** The main lane's input buffer (each worker lane has its own). */
  private readonly scratch = new Scratch();

  private constructor(
    private readonly rt: Runtime,
    private readonly main: LaneModels,
    private readonly workers: WorkerLane[],
  ) {
    this.idle = [...workers, "main"];
  }

  /**
   * Starts `workers` worker lanes on `setup` while the main sessions load. A lane that fails to
   * start is left out (the page is still read, on fewer lanes); so are all when the compiled
   * worker script is missing.
   */
  static async start(
    rt: Runtime,
    main: { recognizer: Promise<Model>; classifier: Promise<Model> },
    setup: LaneSetup,
    workers: number,
  ): Promise<RecognitionLanes> {
    const script = workerScript();
    const starting = script ? Array.from({ length: Math.max(0, workers) }, () => WorkerLane.start(script, setup)) : [];
    const [models, started] = await Promise.all([Promise.allSettled([main.recognizer, main.classifier]), Promise.allSettled(starting)]);
    const lanes = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const [rec, cls] = models;
    if (rec.status === "rejected" || cls.status === "rejected") {
      await Promise.allSettled([
        ...lanes.map((l) => l.close()),
        rec.status === "fulfilled" && rec.value.session.release(),
        cls.status === "fulfilled" && cls.value.session.release(),
      ]);
      throw rec.status === "rejected" ? rec.reason : (cls as PromiseRejectedResult).reason;
    }
    return new RecognitionLanes(rt, { recognizer: rec.value, classifier: cls.value }, lanes);
  }

  /** How many crops can be in flight at once. */
  get size(): number {
    return 1 + this.workers.filter((w) => !w.dead).length;
  }

  /** Reads one crop of `image` on the first free lane. */
  async read(image: RgbImage, crop: CropJob): Promise<CtcCandidates> {
    const result = await this.run(image, { kind: "read", crop });
    if (!("ids" in result)) throw new Error("recognition lane: a crop came back without its candidates");
    return result;
  }

  /** Classifies a batch of crops of `image` on the first free lane: each one's probability of being upside down. */
  async classify(image: RgbImage, quads: Quad[]): Promise<Float32Array> {
    const result = await this.run(image, { kind: "classify", quads });
    if (!("flipped" in result)) throw new Error("recognition lane: a batch came back without its directions");
    return result.flipped;
  }

  private async run(image: RgbImage, job: LaneJob): Promise<LaneResult> {
    const lane = await this.acquire();
    try {
      if (lane !== "main") {
        const { page, release } = this.shared.acquire(image);
        try {
          return await this.main.recognizer.clock.time(() => lane.run(page, job));
        } catch (error) {
          // A thread that died takes no more work; this job is done here instead.
          if (!lane.dead) throw error;
          return await runJob(this.rt, this.main, image, job, this.scratch);
        } finally {
          release();
        }
      }
      return await runJob(this.rt, this.main, image, job, this.scratch);
    } finally {
      this.release(lane);
    }
  }

  private acquire(): Promise<WorkerLane | "main"> {
    const i = this.idle.findIndex((l) => l === "main" || !l.dead);
    if (i >= 0) return Promise.resolve(this.idle.splice(i, 1)[0]);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(lane: WorkerLane | "main"): void {
    // A dead lane is dropped; waiters get the main lane, which cannot die, when it comes back.
    if (lane !== "main" && lane.dead) return;
    const next = this.waiting.shift();
    if (next) next(lane);
    else this.idle.push(lane);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.workers.map((w) => w.close()), this.main.recognizer.session.release(), this.main.classifier.session.release()]);
  }
}
