/**
 * The `qwen` engine: Qwen3-VL (default onnx-community/Qwen3-VL-2B-Instruct-ONNX) on transformers.js
 * and ONNX Runtime. This module stays light: `available()` and the missing-model check are
 * file-system lookups; transformers.js and onnxruntime load only once the model is known to be there.
 */
import { UsageError } from "../../errors.js";
import { ExitCode, type Availability, type Engine, type EngineFactory, type EngineOptions } from "../../types.js";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { dtypeLabel, preferredDtypes } from "../../models/dtypes.js";
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

  /** What `load` would load (model, commit, dtype, device) and how it would generate: the result cache's key. */
  async cacheIdentity(options: EngineOptions): Promise<Record<string, unknown> | null> {
    const settings = settingsFrom(options);
    const device = await chooseDevice(settings.device);
    const resolution = locate(settings, device.device);
    if (!resolution.ok) return null;
    const { location } = resolution;
    return {
      model: location.id,
      // A pulled model is pinned to a commit; a directory is known by its files' sizes and times.
      revision: location.revision ?? directoryStamp(location.dir),
      dtype: dtypeLabel(location.spec),
      device: device.device,
      maxNewTokens: settings.maxNewTokens,
      maxPixels: settings.maxPixels,
      loop: settings.loop,
      loopRetryNgram: settings.loopRetryNgram,
    };
  },
};

function directoryStamp(dir: string): string {
  const parts: string[] = [];
  for (const sub of [dir, path.join(dir, "onnx")]) {
    let names: string[];
    try {
      names = readdirSync(sub).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      try {
        const stat = statSync(path.join(sub, name));
        if (stat.isFile()) parts.push(`${path.relative(dir, path.join(sub, name))}:${stat.size}:${Math.round(stat.mtimeMs)}`);
      } catch {
        // gone meanwhile: leave it out
      }
    }
  }
  return parts.join("|");
}
