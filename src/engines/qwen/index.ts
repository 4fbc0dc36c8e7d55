/**
 * The `qwen` engine: Qwen3-VL (default onnx-community/Qwen3-VL-2B-Instruct-ONNX) on transformers.js
 * and ONNX Runtime. This module stays light: `available()` and the missing-model check are
 * file-system lookups; transformers.js and onnxruntime load only once the model is known to be there.
 */
import { UsageError } from "../../errors.js";
import { ExitCode, type Availability, type Engine, type EngineFactory, type EngineOptions } from "../../types.js";
import { preferredDtypes } from "../../models/dtypes.js";
import { resolveModel, type ModelResolution } from "../../models/resolve.js";
import { chooseDevice } from "./device.js";
import { settingsFrom, type QwenSettings } from "./options.js";

function locate(settings: QwenSettings, device: string): ModelResolution {
  return resolveModel({
    model: settings.model,
    dtype: settings.dtype,
    root: settings.root,
    cwd: settings.cwd,
    preferred: preferredDtypes(device),
  });
}

/** "model X is not downloaded (looked in …); fetch it with `qwen-ocr models pull`" */
export function missingMessage(resolution: Extract<ModelResolution, { ok: false }>): string {
  return resolution.fix ? `${resolution.reason}; fetch it with \`${resolution.fix}\`` : resolution.reason;
}

export const qwen: EngineFactory = {
  name: "qwen",
  description: "Qwen3-VL vision-language model on transformers.js + ONNX Runtime: many scripts and languages, layout-aware text",
  generative: true,

  async available(options: EngineOptions): Promise<Availability> {
    const resolution = locate(settingsFrom(options), "cpu");
    return resolution.ok ? { ok: true } : { ok: false, reason: missingMessage(resolution) };
  },

  async load(options: EngineOptions): Promise<Engine> {
    const started = performance.now();
    const settings = settingsFrom(options);
    // Fail fast, before any heavy import, when the model is not on disk.
    const found = locate(settings, "cpu");
    if (!found.ok) throw new UsageError(`qwen: ${missingMessage(found)}`, ExitCode.ModelMissing);
    const device = await chooseDevice(settings.device);
    if (device.note) settings.onNote?.(device.note);
    const resolution = settings.dtype ? found : locate(settings, device.device);
    if (!resolution.ok) throw new UsageError(`qwen: ${missingMessage(resolution)}`, ExitCode.ModelMissing);
    const { QwenEngine } = await import("./engine.js");
    return QwenEngine.load(resolution.location, device, settings, started);
  },
};
