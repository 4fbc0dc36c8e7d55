/**
 * The result cache: content-addressed page results in `<home>/results`, so that a re-run, or a
 * run resumed after it was killed, reads only the pages it has not read before. See key.ts for
 * what a key is made of and store.ts for the layout on disk.
 */
import { ResultCache, resultsDir } from "./store.js";
import { contextDigest, engineIdentity } from "./key.js";
import type { EngineFactory, EngineOptions } from "../types.js";

export { ResultCache, resultsDir, type CachedPage, type CacheStats, type PruneOptions, type PruneResult } from "./store.js";
export { CACHE_VERSION, contextDigest, engineIdentity, hashSource, pageKey, type KeyContext } from "./key.js";

/** What the pipeline needs to look pages up: the store, and the digest of everything but the page. */
export interface PageCache {
  store: ResultCache;
  context: string;
}

export interface CacheSetup {
  /** The results directory; default `resultsDir(env)`. */
  dir?: string;
  env?: NodeJS.ProcessEnv;
  factory: EngineFactory;
  engineOptions: EngineOptions;
  promptText?: string;
  dpi: number;
  maxPixels: number;
  pdfText?: string;
}

/** The cache for a run, or undefined when the engine opts out of caching. */
export async function openPageCache(setup: CacheSetup): Promise<PageCache | undefined> {
  const engine = await engineIdentity(setup.factory, setup.engineOptions);
  if (!engine) return undefined;
  const context = contextDigest({ engine, prompt: setup.promptText, dpi: setup.dpi, maxPixels: setup.maxPixels, pdfText: setup.pdfText });
  return { store: new ResultCache(setup.dir ?? resultsDir(setup.env)), context };
}
