import { beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { simplePdf } from "./fixtures.js";
import { start, until } from "./helpers/spawn.js";

const PLUGIN = "./test/fakes/batch.mjs";
let dir: string;
let pdf: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "qocr-signals-"));
  pdf = path.join(dir, "eight.pdf");
  writeFileSync(pdf, await simplePdf(8));
});

function env(delayMs: number) {
  const home = mkdtempSync(path.join(dir, "home-"));
  const calls = path.join(home, "calls.txt");
  return {
    env: { QWEN_OCR_CACHE: "1", QWEN_OCR_HOME: home, QWEN_OCR_TEST_CALLS: calls, QWEN_OCR_TEST_DELAY: String(delayMs) },
    calls: () => (existsSync(calls) ? readFileSync(calls, "utf8").trim().split("\n").filter(Boolean) : []),
  };
}

describe("SIGINT (the built CLI)", () => {
  it("stops after the page in flight, writes the finished pages and exits 130", async () => {
    const e = env(250);
    const run = start(["scan", pdf, "--plugin", PLUGIN, "-e", "count", "-f", "jsonl"], { env: e.env });
    await run.lines(1);
    run.child.kill("SIGINT");
    const { code, stdout, stderr } = await run.done;
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted: finishing the page in flight/);
    const records = stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(records.length).toBeGreaterThanOrEqual(1);
    expect(records.length).toBeLessThan(8);
    // Whole pages, in order, none failed by the interruption.
    expect(records.map((r) => r.page)).toEqual(records.map((_, i) => i + 1));
    expect(records.every((r) => !r.error && r.text.includes(`page ${r.page}/8`))).toBe(true);
    // Every page read was written: the one in flight was finished, not dropped.
    expect(e.calls().length).toBe(records.length);
  });

  it("-o FILE: the output file holds the finished pages as a valid document", async () => {
    const e = env(250);
    const out = path.join(dir, "partial.json");
    const run = start(["scan", pdf, "--plugin", PLUGIN, "-e", "count", "-f", "json", "-o", out], { env: e.env });
    await until(() => e.calls().length >= 1);
    run.child.kill("SIGINT");
    const { code } = await run.done;
    expect(code).toBe(130);
    const [doc] = JSON.parse(readFileSync(out, "utf8"));
    expect(doc.records.length).toBeGreaterThanOrEqual(1);
    expect(doc.records.length).toBe(e.calls().length);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("-o DIR/: finished inputs are written, the one cut short is not; --skip-existing then completes the run", async () => {
    const e = env(200);
    const out = path.join(dir, "out/");
    const args = ["scan", "fixtures/samples/receipt.png", pdf, "--plugin", PLUGIN, "-e", "count", "-f", "jsonl", "-o", out];
    const run = start(args, { env: e.env });
    await until(() => e.calls().length >= 3);
    run.child.kill("SIGINT");
    expect((await run.done).code).toBe(130);
    expect(readdirSync(out)).toEqual(["receipt.jsonl"]);
    const read = e.calls().length;

    const again = start([...args, "--skip-existing"], { env: e.env });
    const { code, stderr } = await again.done;
    expect(code).toBe(0);
    expect(stderr).toMatch(/skipped 1 input/);
    expect(readdirSync(out).sort()).toEqual(["eight.jsonl", "receipt.jsonl"]);
    const lines = readFileSync(path.join(out, "eight.jsonl"), "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((r) => r.page)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // The pages read before the interruption came from the cache.
    expect(lines.filter((r) => r.cached).length).toBe(read - 1);
    expect(e.calls().length).toBe(1 + 8);
  });
});

describe("a reader that stops early (`| head`)", () => {
  it("stops reading pages and exits 141 quietly when stdout is closed", async () => {
    const e = env(100);
    const run = start(["scan", pdf, "--plugin", PLUGIN, "-e", "count", "-f", "jsonl"], { env: e.env });
    await run.lines(1);
    run.child.stdout.destroy();
    const { code, stderr } = await run.done;
    expect(code).toBe(141);
    expect(stderr).toBe("");
    // It stopped: the remaining pages were not read into a closed pipe.
    expect(e.calls().length).toBeLessThan(8);
  });

  it("an EPIPE that is not stdout's (an engine's own pipe) is still a failure, reported", async () => {
    const run = start(["scan", "fixtures/samples/receipt.png", "--plugin", "./test/fakes/engines.mjs", "-e", "pipe"]);
    const { code, stderr } = await run.done;
    expect(code).toBe(70);
    expect(stderr).toMatch(/EPIPE/);
  });

  it("--help into a closed pipe: exit 141, no stack trace", async () => {
    const run = start(["scan", "--help"]);
    run.child.stdout.destroy();
    const { code, stderr } = await run.done;
    expect(code).toBe(141);
    expect(stderr).toBe("");
  });
});
