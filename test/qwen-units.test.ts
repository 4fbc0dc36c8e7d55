import { describe, expect, it } from "vitest";
import { cutLoop, DEFAULT_LOOP_BOUNDS, describeLoop, findLoop } from "../src/engines/qwen/loop.js";
import { inkCheck, isBlank, smartResize, DEFAULT_MAX_PIXELS } from "../src/engines/qwen/image.js";
import { dtypeLabel, isSpecFile, onnxFiles, parseDtype, uniform } from "../src/models/dtypes.js";
import type { RgbImage } from "../src/types.js";

describe("findLoop", () => {
  const bounds = { minChars: 40, minRepeats: 3, maxPeriod: 100 };

  it("finds a repeated tail of any period, from one character to a line", () => {
    expect(findLoop("Total: " + ".".repeat(40), bounds)).toMatchObject({ period: 1, unit: "." });
    expect(findLoop("Song:" + " la".repeat(14), bounds)).toMatchObject({ period: 3, unit: " la", repeats: 14, start: 5 });
    const row = "| 0.00 | 0.00 | 0.00 |\n";
    const loop = findLoop("| a | b | c |\n" + row.repeat(3), bounds)!;
    expect(loop).toMatchObject({ period: row.length, repeats: 3 });
    expect((loop.unit + loop.unit).includes(row)).toBe(true); // the row, maybe rotated: the run starts in the header's " |\n"
  });

  it("needs both the length and the number of copies", () => {
    expect(findLoop("x" + " la".repeat(13), bounds)).toBeUndefined(); // 39 characters
    expect(findLoop("x" + " la".repeat(14), bounds)).toBeDefined(); // 42
    const para = "A paragraph that is long enough on its own to pass the characters bound.\n";
    expect(findLoop(para.repeat(2), bounds)).toBeUndefined(); // 2 copies
    expect(findLoop(para.repeat(3), bounds)).toMatchObject({ period: para.length, repeats: 3 });
  });

  it("reports the shortest period and where the run starts", () => {
    const loop = findLoop("abc" + "ab".repeat(30), bounds)!;
    // "abcabab…": the run of period 2 starts at the second "ab" of the text? No: at index 3.
    expect(loop.period).toBe(2);
    expect(loop.start).toBe(3);
    expect(cutLoop("abc" + "ab".repeat(30), loop)).toBe("abcab");
    expect(describeLoop(loop)).toBe('"ab" × 30');
  });

  it("a run that ends in a partial copy still counts, and is cut to its first copy", () => {
    const text = "Start: " + " la".repeat(20) + " l";
    const loop = findLoop(text, bounds)!;
    expect(loop.unit).toBe(" la");
    expect(cutLoop(text, loop)).toBe("Start:  la");
  });

  it("leaves real text alone (default bounds)", () => {
    const prose = "The quick brown fox jumps over the lazy dog. ".repeat(2) + "Chapter 1 " + ".".repeat(80) + " 5\n";
    const table = "| Item | Qty | Price |\n|---|---|---|\n" + "|   |   |   |\n".repeat(20);
    expect(findLoop(prose)).toBeUndefined();
    expect(findLoop(table)).toBeUndefined();
    expect(findLoop("0".repeat(399))).toBeUndefined();
    expect(findLoop("0".repeat(400))).toMatchObject({ period: 1 });
    expect(DEFAULT_LOOP_BOUNDS).toEqual({ minChars: 400, minRepeats: 3, maxPeriod: 1000 });
  });

  it("is cheap on long text without a loop", () => {
    const text = Array.from({ length: 2000 }, (_, i) => `word${i}`).join(" ");
    const started = performance.now();
    for (let i = 0; i < 2000; i++) findLoop(text);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe("page image", () => {
  const solid = (width: number, height: number, value: number): RgbImage => ({ data: new Uint8Array(width * height * 3).fill(value), width, height });

  it("a uniform page is blank; a few strokes are not", () => {
    const page = solid(400, 300, 245);
    expect(isBlank(page)).toBe(true);
    expect(inkCheck(page)).toEqual({ ink: 0, background: 245 });
    // A 10x3 px stroke (a hyphen): 30 px of ink.
    for (let y = 100; y < 103; y++) page.data.fill(20, (y * 400 + 100) * 3, (y * 400 + 110) * 3);
    expect(isBlank(page)).toBe(false);
  });

  it("noise and faint speckle stay blank; a dark page with light text is not", () => {
    const page = solid(400, 300, 200);
    for (let i = 0; i < page.data.length; i += 7) page.data[i] = 200 + ((i * 31) % 21) - 10;
    expect(isBlank(page)).toBe(true);
    const dark = solid(400, 300, 10);
    for (let y = 50; y < 60; y++) dark.data.fill(230, (y * 400 + 50) * 3, (y * 400 + 150) * 3);
    expect(isBlank(dark)).toBe(false);
  });

  it("smartResize keeps pages within the pixel budget in multiples of 32", () => {
    const [w, h] = smartResize(1654, 2339, 32, 4096, DEFAULT_MAX_PIXELS); // A4 at 200 dpi
    expect(w % 32).toBe(0);
    expect(h % 32).toBe(0);
    expect(w * h).toBeLessThanOrEqual(DEFAULT_MAX_PIXELS);
    expect(w * h).toBeGreaterThan(DEFAULT_MAX_PIXELS * 0.9);
    expect(Math.abs(w / h - 1654 / 2339)).toBeLessThan(0.02);
    expect(smartResize(320, 200, 32, 4096, DEFAULT_MAX_PIXELS)).toEqual([320, 192]);
    expect(smartResize(10, 10, 32, 4096, DEFAULT_MAX_PIXELS)).toEqual([64, 64]);
    expect(() => smartResize(10_000, 20, 32, 4096, DEFAULT_MAX_PIXELS)).toThrow(/aspect ratio/);
  });
});

describe("dtypes", () => {
  it("parses one precision or one per part, and names the files each needs", () => {
    expect(parseDtype("q4f16")).toEqual(uniform("q4f16"));
    expect(onnxFiles(uniform("q4"))).toEqual(["onnx/embed_tokens_q4.onnx", "onnx/vision_encoder_q4.onnx", "onnx/decoder_model_merged_q4.onnx"]);
    const mixed = parseDtype("decoder=q4f16,vision=fp16");
    expect(mixed).toEqual({ embed_tokens: "fp16", vision_encoder: "fp16", decoder_model_merged: "q4f16" });
    expect(dtypeLabel(mixed)).toBe("decoder=q4f16,vision=fp16");
    expect(() => parseDtype("q3")).toThrow(/unknown dtype 'q3'/);
    expect(() => parseDtype("embed=fp16,vision=fp32")).toThrow(/must use the same dtype/);
  });

  it("picks a dtype's ONNX files and their external data, not other dtypes'", () => {
    const q4 = uniform("q4");
    expect(isSpecFile("onnx/decoder_model_merged_q4.onnx", q4)).toBe(true);
    expect(isSpecFile("onnx/decoder_model_merged_q4.onnx_data", q4)).toBe(true);
    expect(isSpecFile("onnx/decoder_model_merged_q4.onnx_data_1", q4)).toBe(true);
    expect(isSpecFile("onnx/decoder_model_merged_q4f16.onnx", q4)).toBe(false);
    expect(isSpecFile("onnx/decoder_model_merged.onnx", q4)).toBe(false);
    expect(isSpecFile("onnx/decoder_model_merged.onnx", uniform("fp32"))).toBe(true);
    expect(isSpecFile("onnx/decoder_model_merged_fp16.onnx", uniform("fp32"))).toBe(false);
  });
});
