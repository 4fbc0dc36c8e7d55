// Recognition on parallel lanes (the main thread plus worker threads) must read exactly what one
// lane reads, in the same order; and the bare model time must not count parallel calls twice.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ModelClock } from "../src/engines/ppocr/models.js";
import { runCli } from "./helpers/cli.js";

const jsonl = (stdout: string) => stdout.trimEnd().split("\n").filter(Boolean).map((l) => JSON.parse(l));

describe("recognition lanes", () => {
  it("read the same lines with one thread as with a worker beside the main thread", async () => {
    const read = async (threads: string) => {
      const { code, stdout } = await runCli(["scan", "fixtures/samples/receipt.png", "fixtures/samples/menu-zh-en-ja.png", "-f", "jsonl", "--quiet", "--no-cache", "--threads", threads]);
      expect(code).toBe(0);
      return jsonl(stdout).map((r) => ({ text: r.text, lines: r.lines }));
    };
    const [one, two] = [await read("1"), await read("2")];
    expect(one[0].lines.length).toBeGreaterThan(10);
    expect(two).toEqual(one);
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
