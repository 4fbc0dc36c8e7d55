import { beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { registerEngine } from "../src/engines/registry.js";
import { crash, echo, flaky } from "./fakes/engines.mjs";
import { runCli } from "./helpers/cli.js";
import { simplePdf } from "./fixtures.js";
import { fnv1a, inShard, parseShard, shardName, shardOf } from "../src/inputs/shard.js";

let dir: string;

beforeAll(async () => {
  [echo, crash, flaky].forEach(registerEngine);
  dir = mkdtempSync(path.join(tmpdir(), "qocr-shard-"));
  mkdirSync(path.join(dir, "docs/sub"), { recursive: true });
  for (let i = 0; i < 14; i++) {
    const png = await sharp({ create: { width: 40 + i, height: 30, channels: 3, background: { r: i * 15, g: 100, b: 200 - i * 10 } } }).png().toBuffer();
    writeFileSync(path.join(dir, i % 3 ? "docs" : "docs/sub", `page-${i}.png`), png);
  }
  writeFileSync(path.join(dir, "docs/four.pdf"), await simplePdf(4));
  writeFileSync(path.join(dir, "docs/broken.pdf"), "%PDF-1.7\nnot really\n");
});

const jsonl = (stdout: string) => stdout.trimEnd().split("\n").filter(Boolean).map((l) => JSON.parse(l));
const strip = ({ timings: _t, ...rest }: Record<string, unknown>) => JSON.stringify(rest);

describe("--shard i/N", () => {
  const args = ["scan", "docs", "missing.png", "-e", "echo", "-f", "jsonl"];

  it("N shards are disjoint and together are exactly the unsharded run", async () => {
    const whole = await runCli(args, { cwd: dir });
    expect(whole.code).toBe(1); // missing.png and broken.pdf
    const all = jsonl(whole.stdout).map(strip);
    expect(all.length).toBe(14 + 4 + 1 + 1);

    const parts: string[][] = [];
    for (const i of [1, 2, 3]) {
      const part = await runCli([...args, "--shard", `${i}/3`], { cwd: dir });
      expect([0, 1]).toContain(part.code);
      parts.push(jsonl(part.stdout).map(strip));
    }
    const sources = parts.map((p) => new Set(p.map((r) => JSON.parse(r).source)));
    for (let a = 0; a < 3; a++) for (let b = a + 1; b < 3; b++) expect([...sources[a]!].filter((s) => sources[b]!.has(s))).toEqual([]);
    expect(parts.flat().sort()).toEqual([...all].sort());
    // Each shard keeps the input order of the whole run.
    for (const part of parts) expect(part).toEqual(all.filter((r) => part.includes(r)));
  });

  it("an input's shard depends only on its path relative to cwd", async () => {
    const rel = await runCli(["scan", "docs/page-1.png", "docs/page-2.png", "-e", "echo", "-f", "jsonl", "--shard", "1/2"], { cwd: dir });
    const abs = await runCli(["scan", path.join(dir, "docs/page-1.png"), path.join(dir, "docs/page-2.png"), "-e", "echo", "-f", "jsonl", "--shard", "1/2"], { cwd: dir });
    const names = (out: string) => jsonl(out).map((r) => path.basename(r.source));
    expect(names(abs.stdout)).toEqual(names(rel.stdout));
    expect(shardName({ name: "x", path: path.join(dir, "docs/a.png") }, dir)).toBe("docs/a.png");
    expect(shardName({ name: "-" }, dir)).toBe("-");
    expect(inShard({ name: "./docs/a.png", path: path.join(dir, "docs/a.png") }, { index: shardOf("docs/a.png", 5), count: 5 }, dir)).toBe(true);
  });

  it("1/1 is the whole run; bad specs are usage errors", async () => {
    const whole = await runCli(args, { cwd: dir });
    const one = await runCli([...args, "--shard", "1/1"], { cwd: dir });
    expect(jsonl(one.stdout).map(strip)).toEqual(jsonl(whole.stdout).map(strip));
    for (const bad of ["0/3", "4/3", "1/0", "a/b", "2"]) {
      const { code, stderr } = await runCli([...args, "--shard", bad], { cwd: dir });
      expect(code).toBe(2);
      expect(stderr).toMatch(/invalid shard/);
    }
    expect(parseShard(" 2 / 4 ")).toEqual({ index: 2, count: 4 });
  });

  it("FNV-1a is the standard 32-bit one", () => {
    expect(fnv1a("")).toBe(0x811c9dc5);
    expect(fnv1a("a")).toBe(0xe40c292c);
    expect(fnv1a("foobar")).toBe(0xbf9cf968);
  });
});

describe("--concurrency N", () => {
  it("gives the same records in the same order as one at a time, failures included", async () => {
    const args = ["scan", "docs", "missing.png", "docs/four.pdf", "-f", "jsonl"];
    for (const engine of ["echo", "flaky"]) {
      const one = await runCli([...args, "-e", engine], { cwd: dir });
      for (const n of ["2", "5"]) {
        const many = await runCli([...args, "-e", engine, "--concurrency", n], { cwd: dir });
        expect(many.code).toBe(one.code);
        expect(jsonl(many.stdout).map(strip)).toEqual(jsonl(one.stdout).map(strip));
        expect(many.stderr).toBe(one.stderr);
      }
    }
  });

  it("-o DIR/ with --concurrency writes the same files", async () => {
    const a = path.join(dir, "out-1/");
    const b = path.join(dir, "out-3/");
    await runCli(["scan", "docs", "-e", "echo", "-f", "markdown", "-o", a], { cwd: dir });
    await runCli(["scan", "docs", "-e", "echo", "-f", "markdown", "-o", b, "--concurrency", "3"], { cwd: dir });
    const { readdirSync, readFileSync } = await import("node:fs");
    const files = readdirSync(a).sort();
    expect(readdirSync(b).sort()).toEqual(files);
    for (const f of files) expect(readFileSync(path.join(b, f), "utf8")).toBe(readFileSync(path.join(a, f), "utf8"));
  });

  it("an engine that crashes on every page still gives every record, in order", async () => {
    const one = await runCli(["scan", "docs", "-e", "crash", "-f", "jsonl"], { cwd: dir });
    const many = await runCli(["scan", "docs", "-e", "crash", "-f", "jsonl", "--concurrency", "4"], { cwd: dir });
    expect(jsonl(many.stdout).map(strip)).toEqual(jsonl(one.stdout).map(strip));
  });
});

describe("-o DIR/ --skip-existing", () => {
  it("leaves out inputs whose output file is there, without opening them", async () => {
    const out = path.join(dir, "skip-out/");
    const first = await runCli(["scan", "docs/page-1.png", "docs/page-2.png", "-e", "echo", "-o", out], { cwd: dir });
    expect(first.code).toBe(0);
    // page-1's file stays; page-2's is removed, and page-1's input is made unreadable garbage.
    const { rmSync, readFileSync, readdirSync } = await import("node:fs");
    rmSync(path.join(out, "page-2.txt"));
    const before = readFileSync(path.join(out, "page-1.txt"), "utf8");
    writeFileSync(path.join(dir, "docs/page-1.png"), "garbage");
    const second = await runCli(["scan", "docs/page-1.png", "docs/page-2.png", "-e", "echo", "-o", out, "--skip-existing"], { cwd: dir });
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/skipped 1 input whose output file is already there/);
    expect(readdirSync(out).sort()).toEqual(["page-1.txt", "page-2.txt"]);
    expect(readFileSync(path.join(out, "page-1.txt"), "utf8")).toBe(before);
  });

  it("needs -o DIR/", async () => {
    const { code, stderr } = await runCli(["scan", "docs/page-3.png", "-e", "echo", "--skip-existing"], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toMatch(/--skip-existing needs -o DIR\//);
  });
});
