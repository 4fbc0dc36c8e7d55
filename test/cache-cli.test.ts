import { beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runCli } from "./helpers/cli.js";
import { assertPageRecord } from "./helpers/schema.js";
import { simplePdf } from "./fixtures.js";
import { ResultCache } from "../src/cache/store.js";
import { contextDigest, pageKey, stableJson } from "../src/cache/key.js";
import { registerEngine } from "../src/engines/registry.js";
import { UsageError } from "../src/errors.js";

const PLUGIN = "./test/fakes/batch.mjs";
let dir: string;
let pdf: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "qocr-cache-"));
  pdf = path.join(dir, "three.pdf");
  writeFileSync(pdf, await simplePdf(3));
});

/** A fresh cache home and counters for one scenario. */
function setup() {
  const home = mkdtempSync(path.join(dir, "home-"));
  const loads = path.join(home, "loads.txt");
  const calls = path.join(home, "calls.txt");
  const env = { QWEN_OCR_CACHE: "1", QWEN_OCR_HOME: home, QWEN_OCR_TEST_LOADS: loads, QWEN_OCR_TEST_CALLS: calls };
  const count = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : []);
  return { home, env, loads: () => count(loads).length, calls: () => count(calls) };
}

const jsonl = (stdout: string) => stdout.trimEnd().split("\n").filter(Boolean).map((l) => JSON.parse(l));
/** A record without what differs between a fresh and a cached read. */
const strip = ({ timings: _t, cached: _c, ...rest }: Record<string, unknown>) => rest;

describe("result cache", () => {
  it("a re-run returns every page cached, without loading the engine, and the same records", async () => {
    const s = setup();
    const args = ["scan", "fixtures/samples/receipt.png", pdf, "--plugin", PLUGIN, "-e", "count", "-f", "jsonl"];
    const first = await runCli(args, { env: s.env });
    expect(first.code).toBe(0);
    expect(s.loads()).toBe(1);
    expect(s.calls()).toHaveLength(4);
    const a = jsonl(first.stdout);
    expect(a.some((r) => r.cached)).toBe(false);

    const second = await runCli(args, { env: s.env });
    expect(second.code).toBe(0);
    expect(second.stderr).toBe("");
    expect(s.loads()).toBe(1); // not loaded again
    expect(s.calls()).toHaveLength(4);
    const b = jsonl(second.stdout);
    b.forEach(assertPageRecord);
    expect(b.map((r) => r.cached)).toEqual([true, true, true, true]);
    expect(b.map(strip)).toEqual(a.map(strip));
    // The language stage runs on cached results too (it is not what is cached).
    expect(b[0].languages?.length).toBeGreaterThan(0);
    expect(b[0].lines[0].lang).toBeDefined();
  });

  it("--no-cache reads every page again and stores nothing", async () => {
    const s = setup();
    const args = ["scan", "fixtures/samples/receipt.png", "--plugin", PLUGIN, "-e", "count", "-f", "jsonl", "--no-cache"];
    await runCli(args, { env: s.env });
    const again = await runCli(args, { env: s.env });
    expect(s.loads()).toBe(2);
    expect(jsonl(again.stdout)[0].cached).toBeUndefined();
    expect(existsSync(path.join(s.home, "results"))).toBe(false);
  });

  it("QWEN_OCR_CACHE=0 turns it off like --no-cache", async () => {
    const s = setup();
    const args = ["scan", "fixtures/samples/receipt.png", "--plugin", PLUGIN, "-e", "count", "-f", "jsonl"];
    await runCli(args, { env: { ...s.env, QWEN_OCR_CACHE: "0" } });
    await runCli(args, { env: { ...s.env, QWEN_OCR_CACHE: "0" } });
    expect(s.loads()).toBe(2);
  });

  it("only the pages not in the cache are read: a new page selection, then a new dpi", async () => {
    const s = setup();
    const base = ["scan", pdf, "--plugin", PLUGIN, "-e", "count", "-f", "jsonl"];
    await runCli([...base, "--pages", "2"], { env: s.env });
    expect(s.calls()).toEqual([`${pdf}#2`]);
    const all = await runCli(base, { env: s.env });
    expect(jsonl(all.stdout).map((r) => `${r.page}:${r.cached ?? false}`)).toEqual(["1:false", "2:true", "3:false"]);
    expect(s.calls()).toEqual([`${pdf}#2`, `${pdf}#1`, `${pdf}#3`]);
    // Another resolution gives other pixels: nothing is reused.
    const dpi = await runCli([...base, "--dpi", "100"], { env: s.env });
    expect(jsonl(dpi.stdout).map((r) => r.cached ?? false)).toEqual([false, false, false]);
    expect(s.calls()).toHaveLength(6);
  });

  it("the key is the content, not the name: a renamed copy is found in the cache", async () => {
    const s = setup();
    const copy = path.join(dir, "renamed-receipt.png");
    writeFileSync(copy, readFileSync("fixtures/samples/receipt.png"));
    await runCli(["scan", "fixtures/samples/receipt.png", "--plugin", PLUGIN, "-e", "count", "-f", "jsonl"], { env: s.env });
    const again = await runCli(["scan", copy, "--plugin", PLUGIN, "-e", "count", "-f", "jsonl"], { env: s.env });
    const [record] = jsonl(again.stdout);
    expect(record).toMatchObject({ source: copy, cached: true });
    expect(s.loads()).toBe(1);
  });

  it("failed pages are not cached: a re-run tries them again", async () => {
    const s = setup();
    const args = ["scan", pdf, "--plugin", "./test/fakes/engines.mjs", "-e", "flaky", "-f", "jsonl"];
    const first = await runCli(args, { env: s.env });
    expect(first.code).toBe(1);
    const second = await runCli(args, { env: s.env });
    expect(second.code).toBe(1);
    expect(jsonl(second.stdout).map((r) => `${r.page}:${r.cached ?? false}:${r.error?.code ?? "ok"}`)).toEqual([
      "1:true:ok",
      "2:false:engine_failed",
      "3:true:ok",
    ]);
  });

  it("a damaged entry is a miss, read again and replaced", async () => {
    const s = setup();
    const args = ["scan", "fixtures/samples/receipt.png", "--plugin", PLUGIN, "-e", "count", "-f", "jsonl"];
    await runCli(args, { env: s.env });
    const pagesDir = path.join(s.home, "results", "pages");
    const [shard] = readdirSync(pagesDir);
    const [file] = readdirSync(path.join(pagesDir, shard!));
    writeFileSync(path.join(pagesDir, shard!, file!), '{"v":1,"key":');
    const again = await runCli(args, { env: s.env });
    expect(again.code).toBe(0);
    expect(jsonl(again.stdout)[0].cached).toBeUndefined();
    const third = await runCli(args, { env: s.env });
    expect(jsonl(third.stdout)[0].cached).toBe(true);
  });

  it("cache stats and prune", async () => {
    const s = setup();
    await runCli(["scan", "fixtures/samples/receipt.png", pdf, "--plugin", PLUGIN, "-e", "count", "-f", "jsonl"], { env: s.env });
    const stats = await runCli(["cache", "stats", "--json"], { env: s.env });
    expect(stats.code).toBe(0);
    expect(JSON.parse(stats.stdout)).toMatchObject({ dir: path.join(s.home, "results"), pages: 4, sources: 2 });
    expect((await runCli(["cache", "stats"], { env: s.env })).stdout).toMatch(/pages: 4 results from 2 source\(s\)/);

    expect((await runCli(["cache", "prune"], { env: s.env })).code).toBe(2);
    const young = await runCli(["cache", "prune", "--older-than", "1", "--json"], { env: s.env });
    expect(JSON.parse(young.stdout)).toMatchObject({ removed: 0, left: { pages: 4 } });
    const small = await runCli(["cache", "prune", "--max-size", "0", "--json"], { env: s.env });
    expect(JSON.parse(small.stdout)).toMatchObject({ removed: 6, left: { pages: 0, sources: 0, bytes: 0 } });
    // Pruned: the next run reads the pages again.
    const again = await runCli(["scan", "fixtures/samples/receipt.png", "--plugin", PLUGIN, "-e", "count", "-f", "jsonl"], { env: s.env });
    expect(jsonl(again.stdout)[0].cached).toBeUndefined();
  });
});

describe("the engine is loaded lazily", () => {
  it("an engine that cannot load ends the run with its own error and exit code, not one error per page", async () => {
    registerEngine({
      name: "unloadable",
      description: "test: load fails",
      available: async () => ({ ok: true }),
      load: async () => {
        throw new UsageError("unloadable: model files are gone", 3);
      },
    });
    const { code, stderr } = await runCli(["scan", "fixtures/samples/receipt.png", pdf, "-e", "unloadable", "-f", "jsonl"]);
    expect(code).toBe(3);
    expect(stderr).toBe("qwen-ocr: unloadable: model files are gone\n");
  });

  it("inputs that all fail never load the engine", async () => {
    const s = setup();
    const { code } = await runCli(["scan", "missing.png", "--plugin", PLUGIN, "-e", "count", "-f", "jsonl"], { env: s.env });
    expect(code).toBe(1);
    expect(s.loads()).toBe(0);
  });
});

describe("cache store", () => {
  it("prune drops the least recently used entries first", async () => {
    const root = mkdtempSync(path.join(dir, "store-"));
    const cache = new ResultCache(root);
    const entry = (key: string) => ({
      v: 1,
      key,
      page: 1,
      pages: 1,
      width: 1,
      height: 1,
      pageWarnings: [],
      info: { engine: "e", model: "m" },
      result: { text: "x".repeat(1000), lines: [], finish: "stop" as const, timings: {}, warnings: [] },
      rasterizeMs: 0,
      inferMs: 0,
      created: new Date().toISOString(),
    });
    const keys = ["a", "b", "c"].map((k) => pageKey("ctx", k, 1));
    for (const key of keys) await cache.put(entry(key));
    const { utimes } = await import("node:fs/promises");
    const file = (key: string) => path.join(root, "pages", key.slice(0, 2), `${key}.json`);
    const day = 86_400_000;
    await utimes(file(keys[0]!), new Date(Date.now() - 10 * day), new Date(Date.now() - 10 * day));
    await utimes(file(keys[1]!), new Date(Date.now() - 5 * day), new Date(Date.now() - 5 * day));
    expect((await cache.prune({ olderThanDays: 7 })).removed).toBe(1);
    expect(await cache.has(keys[0]!)).toBe(false);
    const size = (await cache.stats()).bytes;
    const result = await cache.prune({ maxBytes: size - 1 });
    expect(result.removed).toBe(1);
    expect(await cache.has(keys[1]!)).toBe(false);
    expect(await cache.get(keys[2]!)).toMatchObject({ key: keys[2] });
  });

  it("keys: stable JSON ignores key order; every part of the context changes the digest", () => {
    expect(stableJson({ b: 1, a: { d: 2, c: 3 } })).toBe(stableJson({ a: { c: 3, d: 2 }, b: 1 }));
    const base = { engine: { engine: "qwen", dtype: "q4" }, prompt: "read", dpi: 200, maxPixels: 40e6 };
    const digests = new Set([
      contextDigest(base),
      contextDigest({ ...base, engine: { engine: "qwen", dtype: "fp16" } }),
      contextDigest({ ...base, prompt: "read it" }),
      contextDigest({ ...base, dpi: 300 }),
      contextDigest({ ...base, maxPixels: 1e6 }),
      contextDigest({ ...base, prompt: undefined }),
    ]);
    expect(digests.size).toBe(6);
    expect(pageKey("c", "s", 1)).not.toBe(pageKey("c", "s", 2));
  });
});
