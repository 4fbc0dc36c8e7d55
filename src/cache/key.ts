/**
 * Cache keys. A page's result is addressed by what decides it:
 *
 *   sha256(CACHE_VERSION, sha256 of the source's bytes, page number,
 *          engine identity (model, revision, dtype, device, generation parameters, settings),
 *          prompt text, dpi, pixel cap)
 *
 * The source is hashed as bytes (not as pixels) so that a re-run finds its pages without
 * decoding or rasterizing anything; dpi and the pixel cap stand in for what rasterizing would
 * have changed.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { fileError } from "../pages/load.js";
import type { Source } from "../inputs/index.js";
import type { EngineFactory, EngineOptions } from "../types.js";
import { VERSION } from "../version.js";

/** Bumped when the entry format, or what goes into a result, changes: older entries are never read again. */
export const CACHE_VERSION = 1;

/** Everything about a run, except the page, that its results depend on. */
export interface KeyContext {
  engine: Record<string, unknown>;
  prompt?: string;
  dpi: number;
  maxPixels: number;
  /** `--pdf-text`: whether a PDF page is OCR'd at all depends on it, so runs in different modes keep apart. */
  pdfText?: string;
}

/** sha256 (hex) of a source's bytes: a file streamed from disk, or stdin's buffer. */
export async function hashSource(source: Source): Promise<string> {
  const hash = createHash("sha256");
  if (source.read) {
    hash.update(await source.read());
    return hash.digest("hex");
  }
  if (!source.path) throw new Error("source has neither a path nor a reader");
  const stream = createReadStream(source.path, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of stream) hash.update(chunk as Buffer);
  } catch (err) {
    throw fileError(err);
  }
  return hash.digest("hex");
}

/** The part of every page key that does not depend on the page: computed once per run. */
export function contextDigest(context: KeyContext): string {
  return sha256(stableJson({ v: CACHE_VERSION, ...context, prompt: context.prompt ?? null }));
}

/** The key of one page: 64 hex digits. */
export function pageKey(context: string, sourceHash: string, page: number): string {
  return sha256(`${context}\n${sourceHash}\n${page}`);
}

/** Options that never change what an engine reads (threads, paths to resolve against, callbacks). */
const NOT_IN_KEY = new Set(["threads", "cwd", "env", "onNote", "offline", "quiet"]);

/**
 * The engine's identity for the key: its own `cacheIdentity` when it has one, else its name, its
 * scalar options and qwen-ocr's version (a new release may read pages differently). `null`: the
 * engine's results are never cached.
 */
export async function engineIdentity(factory: EngineFactory, options: EngineOptions): Promise<Record<string, unknown> | null> {
  if (factory.cacheIdentity) {
    const own = await factory.cacheIdentity(options);
    return own === null ? null : { engine: factory.name, ...own };
  }
  const scalars: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    if (NOT_IN_KEY.has(k)) continue;
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") scalars[k] = v;
  }
  return { engine: factory.name, options: scalars, qwenOcr: VERSION };
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** JSON with object keys sorted, so that equal values always hash the same. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}
