/**
 * The qwen engine's settings, read from EngineOptions (the CLI's flags, or a library caller's
 * object). Validation errors are usage errors (exit 2).
 */
import path from "node:path";
import { UsageError } from "../../errors.js";
import type { EngineOptions } from "../../types.js";
import { checkSpec, isDtype, parseDtype, SESSIONS, type DtypeSpec } from "../../models/dtypes.js";
import { cacheHome, modelsRoot } from "../../models/paths.js";
import { DEFAULT_MAX_PIXELS } from "./image.js";
import { DEFAULT_LOOP_BOUNDS, type LoopBounds } from "./loop.js";
import { isDeviceRequest, type DeviceRequest } from "./device.js";

/** Enough for a dense page: ~1,500 tokens of English prose, ~2,000 CJK characters. */
export const DEFAULT_MAX_NEW_TOKENS = 2048;

export interface QwenSettings {
  /** `--model`: a directory or a hub repo id (default: the default repo). */
  model?: string;
  /** The models root (`--model-dir`, `$QWEN_OCR_HOME/models`, or the user cache). */
  root: string;
  /** qwen-ocr's cache home (transformers.js' cacheDir goes under it). */
  home: string;
  cwd: string;
  dtype?: DtypeSpec;
  device: DeviceRequest;
  maxNewTokens: number;
  maxPixels: number;
  threads?: number;
  loop: LoopBounds;
  /** no_repeat_ngram_size for one retry of a page that looped; 0: no retry. */
  loopRetryNgram: number;
  offline: boolean;
  onNote?: (message: string) => void;
}

export function settingsFrom(options: EngineOptions): QwenSettings {
  const env = isEnv(options.env) ? options.env : process.env;
  const cwd = typeof options.cwd === "string" ? options.cwd : process.cwd();
  const modelDir = str(options.modelDir);
  const settings: QwenSettings = {
    model: str(options.model),
    root: modelsRoot({ modelDir, env, cwd }),
    home: cacheHome(env),
    cwd,
    device: "auto",
    maxNewTokens: int(options.maxNewTokens, "--max-new-tokens", 1) ?? DEFAULT_MAX_NEW_TOKENS,
    maxPixels: int(options.maxPixels, "--max-pixels", 32 * 32 * 4) ?? DEFAULT_MAX_PIXELS,
    threads: int(options.threads, "--threads", 1),
    loop: {
      minChars: int(options.loopMinChars, "loopMinChars", 1) ?? DEFAULT_LOOP_BOUNDS.minChars,
      minRepeats: int(options.loopMinRepeats, "loopMinRepeats", 2) ?? DEFAULT_LOOP_BOUNDS.minRepeats,
      maxPeriod: DEFAULT_LOOP_BOUNDS.maxPeriod,
    },
    loopRetryNgram: int(options.loopRetryNgram, "loopRetryNgram", 0) ?? 0,
    offline: options.offline === true || env.HF_HUB_OFFLINE === "1",
  };
  if (typeof options.onNote === "function") settings.onNote = options.onNote as (message: string) => void;
  const dtype = options.dtype;
  if (typeof dtype === "string" && dtype) settings.dtype = parseDtype(dtype);
  else if (isSpec(dtype)) {
    checkSpec(dtype);
    settings.dtype = dtype;
  }
  const device = options.device;
  if (typeof device === "string" && device) {
    if (!isDeviceRequest(device)) throw new UsageError(`unknown device '${device}' (expected auto, cpu, cuda or webgpu)`);
    settings.device = device;
  }
  return settings;
}

/** Where transformers.js may cache things (kept out of node_modules). */
export function transformersCacheDir(settings: QwenSettings): string {
  return path.join(settings.home, "transformers");
}

function str(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() ? value.trim() : undefined;
}

function int(value: unknown, name: string, min: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min) throw new UsageError(`${name} must be a whole number ≥ ${min}`);
  return n;
}

function isEnv(value: unknown): value is NodeJS.ProcessEnv {
  return typeof value === "object" && value !== null;
}

function isSpec(value: unknown): value is DtypeSpec {
  return typeof value === "object" && value !== null && SESSIONS.every((s) => {
    const dtype = (value as Record<string, unknown>)[s];
    return typeof dtype === "string" && isDtype(dtype);
  });
}
