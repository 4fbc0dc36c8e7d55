/**
 * `--shard i/N`: a deterministic split of the resolved inputs into N disjoint parts, so that N CI
 * jobs each take one and together read every input exactly once. An input belongs to part
 * `fnv1a(path relative to cwd, with / separators) mod N + 1`: the same on every machine and in
 * every job, whatever else is in the list, so adding an input never moves the others.
 */
import path from "node:path";
import { UsageError } from "../errors.js";

export interface Shard {
  /** 1-based part number. */
  index: number;
  count: number;
}

/** Parses `i/N` (1 ≤ i ≤ N). */
export function parseShard(spec: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new UsageError(`invalid shard "${spec}" (expected i/N with 1 <= i <= N, e.g. 2/4)`);
  }
  return { index, count };
}

/** The name an input is sharded by: its path relative to cwd, `/`-separated (stdin: `-`). */
export function shardName(item: { name: string; path?: string }, cwd: string): string {
  if (!item.path) return item.name;
  const relative = path.relative(cwd, item.path) || item.name;
  return relative.split(path.sep).join("/");
}

/** Which part (1-based) of `count` a name belongs to. */
export function shardOf(name: string, count: number): number {
  return (fnv1a(name) % count) + 1;
}

export function inShard(item: { name: string; path?: string }, shard: Shard, cwd: string): boolean {
  return shardOf(shardName(item, cwd), shard.count) === shard.index;
}

/** 32-bit FNV-1a over the UTF-8 bytes of a string. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
