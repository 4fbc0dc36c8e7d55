/**
 * The openai engine's settings, read from EngineOptions (the CLI's flags, or a library caller's
 * object). Validation errors are usage errors (exit 2): a missing --base-url or --model, a bad URL,
 * an API-key variable that is not set.
 */
import { UsageError } from "../../errors.js";
import type { EngineOptions } from "../../types.js";
import { DEFAULT_MAX_PIXELS } from "../qwen/image.js";
import { DEFAULT_LOOP_BOUNDS, type LoopBounds } from "../qwen/loop.js";

/** The same budget as the local qwen engine: enough for a dense page. */
export const DEFAULT_MAX_NEW_TOKENS = 2048;
/** Requests one engine keeps in flight at most (pages recognised concurrently queue behind them). */
export const DEFAULT_MAX_IN_FLIGHT = 4;
/** Retries after the first attempt, on network errors, timeouts, 408/409/425/429 and 5xx. */
export const DEFAULT_RETRIES = 4;
/** Backoff: a random wait in [0, min(max, base × 2^attempt)] ("full jitter"). */
export const DEFAULT_RETRY_BASE_MS = 1000;
export const DEFAULT_RETRY_MAX_MS = 30_000;
/** A request fails (and is retried) when the server sends nothing for this long. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
/** The longest Retry-After that is honoured as given; longer ones are cut to this. */
export const MAX_RETRY_AFTER_MS = 300_000;

export type ImageFormat = "png" | "jpeg";

export interface OpenAiSettings {
  /** The API root, e.g. `http://localhost:8000/v1` (no trailing slash). */
  baseUrl: string;
  /** `${baseUrl}/chat/completions`. */
  endpoint: string;
  /** The served model's name, as the server knows it (`--served-model-name`, or the repo id). */
  model: string;
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  maxNewTokens: number;
  maxPixels: number;
  maxInFlight: number;
  retries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  requestTimeoutMs: number;
  imageFormat: ImageFormat;
  loop: LoopBounds;
}

const USAGE = "--engine openai needs --base-url URL (an OpenAI-compatible server, e.g. http://localhost:8000/v1) and --model NAME (the served model, e.g. Qwen/Qwen3-VL-2B-Instruct)";

export function settingsFrom(options: EngineOptions): OpenAiSettings {
  const env = isEnv(options.env) ? options.env : process.env;
  const rawUrl = str(options.baseUrl);
  const model = str(options.model);
  if (!rawUrl || !model) throw new UsageError(`${USAGE}; missing: ${[!rawUrl && "--base-url", !model && "--model"].filter(Boolean).join(", ")}`);
  const baseUrl = normalizeBaseUrl(rawUrl);

  let apiKey = str(options.apiKey);
  const keyVar = str(options.apiKeyEnv);
  if (!apiKey && keyVar) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(keyVar)) throw new UsageError(`--api-key-env takes the name of an environment variable, not '${keyVar}'`);
    apiKey = str(env[keyVar]);
    if (!apiKey) throw new UsageError(`--api-key-env ${keyVar}: the environment variable ${keyVar} is not set`);
  }

  const format = options.imageFormat;
  if (format !== undefined && format !== "png" && format !== "jpeg") throw new UsageError(`imageFormat must be png or jpeg, not '${String(format)}'`);

  return {
    baseUrl,
    endpoint: `${baseUrl}/chat/completions`,
    model,
    ...(apiKey ? { apiKey } : {}),
    maxNewTokens: int(options.maxNewTokens, "--max-new-tokens", 1) ?? DEFAULT_MAX_NEW_TOKENS,
    maxPixels: int(options.maxPixels, "--max-pixels", 32 * 32 * 4) ?? DEFAULT_MAX_PIXELS,
    maxInFlight: int(options.maxInFlight, "maxInFlight", 1) ?? DEFAULT_MAX_IN_FLIGHT,
    retries: int(options.retries, "retries", 0) ?? DEFAULT_RETRIES,
    retryBaseMs: int(options.retryBaseMs, "retryBaseMs", 0) ?? DEFAULT_RETRY_BASE_MS,
    retryMaxMs: int(options.retryMaxMs, "retryMaxMs", 0) ?? DEFAULT_RETRY_MAX_MS,
    requestTimeoutMs: int(options.requestTimeoutMs, "requestTimeoutMs", 1) ?? DEFAULT_REQUEST_TIMEOUT_MS,
    imageFormat: format ?? "png",
    loop: {
      minChars: int(options.loopMinChars, "loopMinChars", 1) ?? DEFAULT_LOOP_BOUNDS.minChars,
      minRepeats: int(options.loopMinRepeats, "loopMinRepeats", 2) ?? DEFAULT_LOOP_BOUNDS.minRepeats,
      maxPeriod: DEFAULT_LOOP_BOUNDS.maxPeriod,
    },
  };
}

/**
 * `http://host:8000/v1/` → `http://host:8000/v1`. A URL with no path gets `/v1`, where vLLM,
 * SGLang and the others serve the API; a URL that already names the endpoint loses it.
 */
export function normalizeBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--base-url '${raw}' is not a URL (expected e.g. http://localhost:8000/v1)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--base-url '${raw}' must be an http:// or https:// URL`);
  if (url.username || url.password) throw new UsageError("--base-url must not carry credentials; put the key in an environment variable and name it with --api-key-env");
  url.search = "";
  url.hash = "";
  let pathname = url.pathname.replace(/\/+$/, "").replace(/\/chat\/completions$/, "");
  if (pathname === "") pathname = "/v1";
  return `${url.origin}${pathname}`;
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
