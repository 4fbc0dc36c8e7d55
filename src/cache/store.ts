/**
 * The result cache on disk: one small JSON file per page result, written atomically (temp file +
 * rename) the moment the page is done, so a run killed at any point leaves only whole entries.
 *
 *   <home>/results/pages/<k0k1>/<key>.json      a page's engine result (see CachedPage)
 *   <home>/results/sources/<h0h1>/<sha>.json    a source's page count, so a re-run need not open it
 *
 * `<home>` is `$QWEN_OCR_HOME`, else the user cache directory (see models/paths.ts). A read
 * refreshes an entry's mtime, so `prune` drops the least recently used first.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { cacheHome } from "../models/paths.js";
import type { EngineInfo, EngineResult } from "../types.js";
import { CACHE_VERSION } from "./key.js";

/** What is stored for a page: the engine's result before the language stage and template parsing. */
export interface CachedPage {
  v: number;
  key: string;
  page: number;
  pages: number;
  width: number;
  height: number;
  dpi?: number;
  /** Warnings from rasterizing the page (e.g. a lowered DPI). */
  pageWarnings: string[];
  /** The engine that produced the result, as it described itself. */
  info: EngineInfo;
  result: EngineResult;
  rasterizeMs: number;
  inferMs: number;
  /** ISO time the result was produced. */
  created: string;
}

export interface CachedSource {
  v: number;
  pages: number;
}

export interface CacheStats {
  dir: string;
  pages: number;
  sources: number;
  bytes: number;
  /** Unfinished writes (temp files) left by killed runs. */
  temp: number;
  oldest?: Date;
  newest?: Date;
}

export interface PruneOptions {
  /** Remove entries not used for more than this many days. */
  olderThanDays?: number;
  /** Then remove the least recently used entries until the cache is at most this many bytes. */
  maxBytes?: number;
  /** Remove everything. */
  all?: boolean;
  now?: number;
}

export interface PruneResult {
  removed: number;
  freedBytes: number;
  left: CacheStats;
}

/** `<home>/results`: `$QWEN_OCR_HOME/results`, else the user cache's. */
export function resultsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheHome(env), "results");
}

/** Temp files older than this are leftovers of killed runs, removed by `prune`. */
const STALE_TEMP_MS = 60 * 60 * 1000;

export class ResultCache {
  private readonly madeDirs = new Set<string>();

  constructor(readonly dir: string) {}

  private pageFile(key: string): string {
    return path.join(this.dir, "pages", key.slice(0, 2), `${key}.json`);
  }

  private sourceFile(hash: string): string {
    return path.join(this.dir, "sources", hash.slice(0, 2), `${hash}.json`);
  }

  /** Whether a page's entry is there (without reading it). */
  async has(key: string): Promise<boolean> {
    return fs.access(this.pageFile(key)).then(
      () => true,
      () => false,
    );
  }

  /** A page's entry, or undefined when absent, unreadable or from another cache version. */
  async get(key: string): Promise<CachedPage | undefined> {
    const entry = await this.read<CachedPage>(this.pageFile(key));
    if (!entry || entry.key !== key || typeof entry.result?.text !== "string") return undefined;
    return entry;
  }

  async put(entry: CachedPage): Promise<void> {
    await this.write(this.pageFile(entry.key), entry);
  }

  async getSource(hash: string): Promise<CachedSource | undefined> {
    const entry = await this.read<CachedSource>(this.sourceFile(hash));
    return entry && Number.isInteger(entry.pages) && entry.pages > 0 ? entry : undefined;
  }

  async putSource(hash: string, pages: number): Promise<void> {
    await this.write(this.sourceFile(hash), { v: CACHE_VERSION, pages } satisfies CachedSource);
  }

  private async read<T extends { v: number }>(file: string): Promise<T | undefined> {
    let text: string;
    try {
      text = await fs.readFile(file, "utf8");
    } catch {
      return undefined;
    }
    let entry: T;
    try {
      entry = JSON.parse(text) as T;
    } catch {
      // A torn or foreign file: drop it, the page is simply read again.
      await fs.rm(file, { force: true }).catch(() => {});
      return undefined;
    }
    if (entry?.v !== CACHE_VERSION) return undefined;
    const now = new Date();
    fs.utimes(file, now, now).catch(() => {});
    return entry;
  }

  private async write(file: string, value: unknown): Promise<void> {
    const dir = path.dirname(file);
    if (!this.madeDirs.has(dir)) {
      await fs.mkdir(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    // Unique per write: two runs (or two identical inputs of one run) may store the same key at once.
    const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    try {
      await fs.writeFile(temp, JSON.stringify(value));
      await fs.rename(temp, file);
    } catch (err) {
      await fs.rm(temp, { force: true }).catch(() => {});
      // The directory may have been pruned away under us: make it again, once.
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && this.madeDirs.delete(dir)) return this.write(file, value);
      throw err;
    }
  }

  async stats(): Promise<CacheStats> {
    const stats: CacheStats = { dir: this.dir, pages: 0, sources: 0, bytes: 0, temp: 0 };
    for await (const f of this.files()) {
      stats.bytes += f.size;
      if (f.temp) {
        stats.temp++;
        continue;
      }
      if (f.kind === "pages") stats.pages++;
      else stats.sources++;
      if (!stats.oldest || f.mtimeMs < stats.oldest.getTime()) stats.oldest = new Date(f.mtimeMs);
      if (!stats.newest || f.mtimeMs > stats.newest.getTime()) stats.newest = new Date(f.mtimeMs);
    }
    return stats;
  }

  /**
   * Removes entries unused for `olderThanDays`, then the least recently used until the total is
   * at most `maxBytes`; always removes temp files that killed runs left behind.
   */
  async prune(options: PruneOptions): Promise<PruneResult> {
    const now = options.now ?? Date.now();
    const kept: FileInfo[] = [];
    let removed = 0;
    let freedBytes = 0;
    const remove = async (f: FileInfo) => {
      await fs.rm(f.file, { force: true });
      if (!f.temp) removed++;
      freedBytes += f.size;
    };
    for await (const f of this.files()) {
      const age = now - f.mtimeMs;
      if (options.all || (f.temp && age > STALE_TEMP_MS)) await remove(f);
      else if (!f.temp && options.olderThanDays !== undefined && age > options.olderThanDays * 86_400_000) await remove(f);
      else kept.push(f);
    }
    if (options.maxBytes !== undefined) {
      let total = kept.reduce((sum, f) => sum + f.size, 0);
      kept.sort((a, b) => a.mtimeMs - b.mtimeMs);
      for (const f of kept) {
        if (total <= options.maxBytes) break;
        if (f.temp) continue;
        await remove(f);
        total -= f.size;
      }
    }
    await this.removeEmptyDirs();
    return { removed, freedBytes, left: await this.stats() };
  }

  private async *files(): AsyncGenerator<FileInfo> {
    for (const kind of ["pages", "sources"] as const) {
      const top = path.join(this.dir, kind);
      const shards = await fs.readdir(top).catch(() => [] as string[]);
      for (const shard of shards) {
        const names = await fs.readdir(path.join(top, shard)).catch(() => [] as string[]);
        for (const name of names) {
          const file = path.join(top, shard, name);
          const stat = await fs.stat(file).catch(() => undefined);
          if (!stat?.isFile()) continue;
          yield { file, kind, size: stat.size, mtimeMs: stat.mtimeMs, temp: name.endsWith(".tmp") };
        }
      }
    }
  }

  private async removeEmptyDirs(): Promise<void> {
    for (const kind of ["pages", "sources"]) {
      const top = path.join(this.dir, kind);
      for (const shard of await fs.readdir(top).catch(() => [] as string[])) {
        // rmdir fails on a directory that is not empty, which is what we want.
        await fs.rmdir(path.join(top, shard)).catch(() => {});
      }
    }
    this.madeDirs.clear();
  }
}

interface FileInfo {
  file: string;
  kind: "pages" | "sources";
  size: number;
  mtimeMs: number;
  temp: boolean;
}
