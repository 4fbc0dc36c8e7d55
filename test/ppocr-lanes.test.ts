// Recognition on parallel lanes (the main thread plus worker threads) must read exactly what one
// lane reads, in the same order; and the bare model time must not count parallel calls twice.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Quad } from "../src/engines/ppocr/geometry.js";
import { ModelClock } from "../src/engines/ppocr/models.js";
import { ROOT, spawnCli } from "./helpers/cli.js";

const jsonl = (stdout: string) => stdout.trimEnd().split("\n").filter(Boolean).map((l) => JSON.parse(l));

describe("recognition lanes", () => {
  it("a worker lane reads a crop exactly as the main thread does", async () => {
    // The built modules: the worker thread runs dist/engines/ppocr/rec-worker.js.
    const models = await import("../dist/engines/ppocr/models.js");
    const { RecognitionLanes } = await import("../dist/engines/ppocr/lanes.js");
    const rt = await models.loadRuntime();
    const files = models.locateModels().files;
    expect(files).toBeDefined();
    const setup = { recognizer: await models.recognizerModel(files!.recognition, true), classifier: new Uint8Array(readFileSync(files!.classifier)) };
    const start = (workers: number) => {
      const clock = new models.ModelClock();
      const main = { recognizer: models.createModel(rt, setup.recognizer, 1, clock), classifier: models.createModel(rt, setup.classifier, 1, clock) };
      return RecognitionLanes.start(rt, main, setup, workers);
    };
    const lanes = await start(1);
    try {
      expect(lanes.size).toBe(2);
      // A page of stripes and one crop of it, read twice at once: one goes to the worker (which
      // samples it from the shared page), the other is read on the main thread.
      const width = 400;
      const height = 60;
      const data = new Uint8Array(width * height * 3).map((_, i) => ((i * 7) % 251) ^ (Math.floor(i / 90) % 2 ? 255 : 0));
      const image = { data, width, height };
      const quad: Quad = [{ x: 10, y: 5 }, { x: 390, y: 8 }, { x: 389, y: 50 }, { x: 9, y: 47 }];
      const job = { quad, width: 400, tensorWidth: 416, height: 48 };
      const [a, b] = await Promise.all([lanes.read(image, job), lanes.read(image, job)]);
      expect(a.steps).toBe(52);
      expect(a.ids.length).toBe(52 * a.k);
      expect(Array.from(a.ids)).toEqual(Array.from(b.ids));
      for (let t = 0; t < a.probs.length; t++) expect(a.probs[t]).toBeCloseTo(b.probs[t], 5);
      // The next page replaces the worker's: a crop of it is read from it, not from the old one.
      const inverted = { data: data.map((v) => 255 - v), width, height };
      const [c, d] = await Promise.all([lanes.read(inverted, job), lanes.read(inverted, job)]);
      expect(Array.from(c.ids)).toEqual(Array.from(d.ids));
      for (let t = 0; t < c.probs.length; t++) expect(c.probs[t]).toBeCloseTo(d.probs[t], 5);
      expect(Array.from(c.probs)).not.toEqual(Array.from(a.probs));
      // Two pages in flight at once on two workers: the second gets a buffer of its own.
      const two = await start(2);
      try {
        expect(two.size).toBe(3);
        const [p, q, r] = await Promise.all([two.read(image, job), two.read(inverted, job), two.read(inverted, job)]);
        expect(Array.from(p.ids)).toEqual(Array.from(a.ids));
        expect(Array.from(q.ids)).toEqual(Array.from(c.ids));
        for (let t = 0; t < c.probs.length; t++) expect(q.probs[t]).toBeCloseTo(r.probs[t], 5);
        for (let t = 0; t < a.probs.length; t++) expect(p.probs[t]).toBeCloseTo(a.probs[t], 5);
        // A batch of directions, classified on both workers and on the main thread at once.
        const quads = [quad, [quad[2], quad[3], quad[0], quad[1]] as Quad];
        const [u, ...others] = await Promise.all([two.classify(image, quads), two.classify(image, quads), two.classify(image, quads)]);
        expect(u.length).toBe(2);
        expect(Array.from(u).every((x) => x >= 0 && x <= 1)).toBe(true);
        for (const v of others) for (let k = 0; k < 2; k++) expect(v[k]).toBeCloseTo(u[k], 5);
        expect(Math.abs(u[0] - u[1])).toBeGreaterThan(1e-3);
      } finally {
        await two.close();
      }
    } finally {
      await lanes.close();
    }
  });

  it("read the same lines with one thread as with a worker beside the main thread", async () => {
    // The built CLI in a child process: from the TypeScript sources there is no worker script.
    const read = async (threads: string) => {
      const { code, stdout, stderr } = await spawnCli(["scan", "fixtures/samples/receipt.png", "fixtures/samples/menu-zh-en-ja.png", "-f", "jsonl", "--quiet", "--no-cache", "--threads", threads]);
      expect(stderr).toBe("");
      expect(code).toBe(0);
      return jsonl(stdout).map((r) => ({ text: r.text, lines: r.lines }));
    };
    const [one, two] = [await read("1"), await read("2")];
    expect(one[0].lines.length).toBeGreaterThan(10);
    expect(two).toEqual(one);
  });

  it("an engine left unclosed does not keep the process alive", async () => {
    const script = [
      `const { getEngineFactory, scan } = await import(${JSON.stringify(path.join(ROOT, "dist/index.js"))});`,
      `const engine = await (await getEngineFactory("ppocr")).load({ threads: 2 });`,
      `for await (const r of scan([${JSON.stringify(path.join(ROOT, "fixtures/samples/receipt.png"))}], { engine })) console.log(r.lines.length);`,
    ].join("\n");
    const { status, stdout } = spawnSync(process.execPath, ["--input-type=module", "-e", script], { timeout: 60_000, encoding: "utf8" });
    expect(status).toBe(0);
    expect(Number(stdout.trim())).toBeGreaterThan(10);
  });
});

describe("ModelClock", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "performance"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("counts overlapping calls once and idle time not at all", async () => {
    const clock = new ModelClock();
    const calls = Promise.all([clock.time(() => sleep(60)), clock.time(() => sleep(30).then(() => sleep(50)))]);
    await vi.advanceTimersByTimeAsync(80);
    await calls;
    await vi.advanceTimersByTimeAsync(100);
    const last = clock.time(() => sleep(40));
    await vi.advanceTimersByTimeAsync(40);
    await last;
    // Calls over 0–60 and 0–80 ms, then one over 180–220 ms: 120 ms busy, not 180 and not 220.
    expect(clock.busyMs).toBe(120);
  });

  it("stops counting when a call fails", async () => {
    const clock = new ModelClock();
    const failing = clock.time(async () => {
      await sleep(20);
      throw new Error("model failed");
    });
    const settled = expect(failing).rejects.toThrow("model failed");
    await vi.advanceTimersByTimeAsync(20);
    await settled;
    await vi.advanceTimersByTimeAsync(50);
    await clock.time(async () => undefined);
    expect(clock.busyMs).toBe(20);
  });
});
