import { beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { simplePdf } from "./fixtures.js";
import { start } from "./helpers/spawn.js";

const PLUGIN = "./test/fakes/batch.mjs";
let dir: string;
let inputs: string[];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "qocr-resume-"));
  const ten = path.join(dir, "ten.pdf");
  const three = path.join(dir, "three.pdf");
  writeFileSync(ten, await simplePdf(10));
  writeFileSync(three, await simplePdf(3, [200, 300]));
  inputs = ["fixtures/samples/receipt.png", ten, "missing.png", three];
});

const parse = (stdout: string) => stdout.trimEnd().split("\n").filter(Boolean).map((l) => JSON.parse(l));
const strip = ({ timings: _t, cached: _c, ...rest }: Record<string, unknown>) => rest;

describe("SIGKILL and resume (the built CLI)", () => {
  it("a run killed mid-way and run again redoes only the unfinished pages and gives the uninterrupted run's records", async () => {
    const home = mkdtempSync(path.join(dir, "home-"));
    const calls = path.join(home, "calls.txt");
    const loads = path.join(home, "loads.txt");
    const env = { QWEN_OCR_CACHE: "1", QWEN_OCR_HOME: home, QWEN_OCR_TEST_CALLS: calls, QWEN_OCR_TEST_LOADS: loads, QWEN_OCR_TEST_DELAY: "120" };
    const count = (file: string) => (existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean).length : 0);
    const args = ["scan", ...inputs, "--plugin", PLUGIN, "-e", "count", "-f", "jsonl"];

    const killed = start(args, { env });
    await killed.lines(4); // the receipt and three pages of ten.pdf are out
    killed.child.kill("SIGKILL");
    const dead = await killed.done;
    expect(dead.signal).toBe("SIGKILL");
    const readBefore = count(calls);
    expect(readBefore).toBeGreaterThanOrEqual(4);
    expect(readBefore).toBeLessThan(14);

    const resumed = start(args, { env });
    const after = await resumed.done;
    expect(after.code).toBe(1); // missing.png
    const records = parse(after.stdout);
    // Each page finished before the kill was stored, and only the others were read again.
    const cachedCount = records.filter((r) => r.cached).length;
    expect(cachedCount).toBeGreaterThanOrEqual(4);
    expect(count(calls) - readBefore).toBe(14 - cachedCount);

    const reference = start([...args, "--no-cache"], { env: { ...env, QWEN_OCR_TEST_DELAY: "0" } });
    const ref = await reference.done;
    expect(records.map(strip)).toEqual(parse(ref.stdout).map(strip));

    // A third run reads nothing and never loads the engine.
    const loadsBefore = count(loads);
    const third = await start(args, { env }).done;
    expect(parse(third.stdout).filter((r) => !r.error).every((r) => r.cached)).toBe(true);
    expect(count(loads)).toBe(loadsBefore);
  });
});
