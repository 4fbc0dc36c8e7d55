// The reused model-input buffer (src/engines/ppocr/scratch.ts).
import { describe, expect, it } from "vitest";
import { Scratch } from "../src/engines/ppocr/scratch.js";

describe("Scratch", () => {
  it("lends the same memory run after run, zeroed, grown when a run needs more", async () => {
    const s = new Scratch();
    const first = await s.use(4, async (d) => {
      d.fill(7);
      return d.buffer;
    });
    const again = await s.use(3, async (d) => {
      expect(Array.from(d)).toEqual([0, 0, 0]);
      return d.buffer;
    });
    expect(again).toBe(first);
    const bigger = await s.use(10, async (d) => d.buffer);
    expect(bigger).not.toBe(first);
    expect(await s.use(2, async (d) => d.buffer)).toBe(bigger);
  });

  it("gives a second user a buffer of its own while the first still holds it", async () => {
    const s = new Scratch();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = s.use(4, async (d) => {
      d.fill(1);
      await held;
      return Array.from(d);
    });
    const second = await s.use(4, async (d) => {
      d.fill(2);
      return Array.from(d);
    });
    release();
    expect(await first).toEqual([1, 1, 1, 1]);
    expect(second).toEqual([2, 2, 2, 2]);
    // Released even when its user throws.
    await expect(s.use(1, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    const buffer = await s.use(1, async (d) => d.buffer);
    expect(await s.use(1, async (d) => d.buffer)).toBe(buffer);
  });
});
