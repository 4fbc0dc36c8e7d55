import { ExitCode } from "../types.js";
import { UsageError } from "../errors.js";
import { ResultCache, resultsDir, type CacheStats } from "../cache/store.js";
import type { CliIO } from "./io.js";
import type { CacheFlags } from "./program.js";

/** `qwen-ocr cache stats`: where the result cache is and what it holds. */
export async function runCacheStats(flags: CacheFlags, io: CliIO): Promise<number> {
  const stats = await new ResultCache(resultsDir(io.env)).stats();
  if (flags.json) io.stdout.write(`${JSON.stringify(statsJson(stats))}\n`);
  else io.stdout.write(describe(stats));
  return ExitCode.Ok;
}

/** `qwen-ocr cache prune [--older-than DAYS] [--max-size MB] [--all]`. */
export async function runCachePrune(flags: CacheFlags, io: CliIO): Promise<number> {
  if (flags.olderThan === undefined && flags.maxSize === undefined && !flags.all) {
    throw new UsageError("cache prune needs --older-than DAYS, --max-size MB or --all");
  }
  const cache = new ResultCache(resultsDir(io.env));
  const result = await cache.prune({
    olderThanDays: flags.olderThan,
    maxBytes: flags.maxSize === undefined ? undefined : flags.maxSize * 1024 * 1024,
    all: flags.all,
  });
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ removed: result.removed, freedBytes: result.freedBytes, left: statsJson(result.left) })}\n`);
  } else {
    io.stdout.write(`removed ${result.removed} entries (${formatSize(result.freedBytes)})\n${describe(result.left)}`);
  }
  return ExitCode.Ok;
}

function statsJson(stats: CacheStats) {
  return {
    dir: stats.dir,
    pages: stats.pages,
    sources: stats.sources,
    bytes: stats.bytes,
    temp: stats.temp,
    oldest: stats.oldest?.toISOString() ?? null,
    newest: stats.newest?.toISOString() ?? null,
  };
}

function describe(stats: CacheStats): string {
  const lines = [
    `cache: ${stats.dir}`,
    `pages: ${stats.pages} results from ${stats.sources} source(s), ${formatSize(stats.bytes)}`,
  ];
  if (stats.oldest && stats.newest) lines.push(`used:  ${day(stats.oldest)} to ${day(stats.newest)}`);
  if (stats.temp) lines.push(`temp:  ${stats.temp} unfinished write(s) from killed runs (prune removes them after an hour)`);
  return `${lines.join("\n")}\n`;
}

function day(date: Date): string {
  return date.toISOString().slice(0, 16).replace("T", " ");
}

function formatSize(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${bytes} B`;
}
