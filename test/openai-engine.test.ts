// The openai engine end to end against a local OpenAI-compatible server: what the server is sent,
// streaming, finish reasons, the loop guard, concurrency limits, and the CLI's records and exit codes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { openai } from "../src/engines/openai/index.js";
import { registerEngine } from "../src/engines/registry.js";
import type { Engine, EngineOptions, Page } from "../src/types.js";
import { ROOT, runCli } from "./helpers/cli.js";
import { assertPageRecord } from "./helpers/schema.js";
import { deadPort, endless, hang, startServer, status, stream, type FakeServer } from "./helpers/openai-server.js";

const RECEIPT = path.join(ROOT, "fixtures/samples/receipt.png");
const PLAIN = "Read all the text in the image. Output only the text content from the image without any additional descriptions or formatting.";
const jsonl = (stdout: string) => stdout.trimEnd().split("\n").filter(Boolean).map((l) => JSON.parse(l));

let server: FakeServer;
let receipt: Page;
/** A home of its own: nothing from (or into) the user's result cache. */
let home: string;
const env = (extra: NodeJS.ProcessEnv = {}) => ({ QWEN_OCR_HOME: home, ...extra });

beforeAll(async () => {
  server = await startServer();
  mkdirSync(path.join(ROOT, "test/.tmp"), { recursive: true });
  home = mkdtempSync(path.join(ROOT, "test/.tmp/openai-"));
  const { data, info } = await sharp(RECEIPT).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  receipt = { source: "receipt.png", page: 1, pages: 1, image: { data: new Uint8Array(data), width: info.width, height: info.height }, rasterizeMs: 0, warnings: [] };
  // The CLI's openai engine, with short retries so failures are quick to test. Registered engines
  // take precedence over built-ins; everything else (flags, settings, requests) is the real engine.
  registerEngine({ ...openai, load: (options: EngineOptions) => openai.load({ retries: 1, retryBaseMs: 5, retryMaxMs: 10, requestTimeoutMs: 2000, ...options }) });
});
afterAll(async () => {
  await server.close();
  rmSync(home, { recursive: true, force: true });
});

const load = (options: EngineOptions = {}): Promise<Engine> =>
  openai.load({ baseUrl: server.url, model: "Qwen/Qwen3-VL-2B-Instruct", retries: 2, retryBaseMs: 5, retryMaxMs: 10, requestTimeoutMs: 500, ...options });

describe("openai engine", () => {
  it("sends the page as a data URL at the pixel budget, with the prompt, streamed, greedy, with max_tokens", async () => {
    const engine = await load({ maxPixels: 200_000, maxNewTokens: 300 });
    server.script(stream(["GREENLEAF", " MARKET\n", "TOTAL 51.16"], { usage: { prompt_tokens: 250, completion_tokens: 9 } }));
    const deltas: string[] = [];
    const result = await engine.recognize(receipt, { prompt: { name: "plain", text: PLAIN }, onText: (d) => deltas.push(d) });
    const seen = server.requests.at(-1)!;
    expect(seen.method).toBe("POST");
    expect(seen.url).toBe("/v1/chat/completions");
    expect(seen.headers["content-type"]).toBe("application/json");
    expect(seen.headers.authorization).toBeUndefined();
    const { body } = seen;
    expect(body).toMatchObject({ model: "Qwen/Qwen3-VL-2B-Instruct", stream: true, stream_options: { include_usage: true }, temperature: 0, max_tokens: 300 });
    expect(body.messages).toHaveLength(1);
    const [message] = body.messages;
    expect(message!.role).toBe("user");
    expect(message!.content.map((c) => c.type)).toEqual(["image_url", "text"]);
    expect(message!.content[1]!.text).toBe(PLAIN);
    const url = message!.content[0]!.image_url!.url;
    expect(url).toMatch(/^data:image\/png;base64,/);
    const png = await sharp(Buffer.from(url.slice(url.indexOf(",") + 1), "base64")).metadata();
    // 728 × 1115 scaled into 200,000 pixels, both sides multiples of 32, aspect kept.
    expect(png.format).toBe("png");
    expect(png.width! % 32).toBe(0);
    expect(png.height! % 32).toBe(0);
    expect(png.width! * png.height!).toBeLessThanOrEqual(200_000);
    expect(Math.abs(png.width! / png.height! - 728 / 1115)).toBeLessThan(0.05);

    expect(result).toMatchObject({
      text: "GREENLEAF MARKET\nTOTAL 51.16",
      lines: [{ text: "GREENLEAF MARKET" }, { text: "TOTAL 51.16" }],
      finish: "stop",
      tokens: { input: 250, output: 9 },
      warnings: [],
      generation: { prompt: "plain", temperature: 0, do_sample: false, max_new_tokens: 300, max_pixels: 200_000, image_format: "png" },
    });
    expect(deltas.join("")).toBe("GREENLEAF MARKET\nTOTAL 51.16");
    expect(engine.info).toEqual({ engine: "openai", model: "Qwen/Qwen3-VL-2B-Instruct", device: "remote" });
    for (const t of ["queueMs", "encodeMs", "firstTokenMs", "decodeMs"]) expect(result.timings[t]).toBeGreaterThanOrEqual(0);
    await engine.close();
  });

  it("JPEG on request", async () => {
    const engine = await load({ imageFormat: "jpeg" });
    await engine.recognize(receipt);
    expect(server.requests.at(-1)!.body.messages[0]!.content[0]!.image_url!.url).toMatch(/^data:image\/jpeg;base64,\/9j\//);
  });

  it("a 500 and a timeout are retried, then the page is read; the record says so", async () => {
    const engine = await load();
    const before = server.requests.length;
    server.script(status(500), hang(), stream(["third time lucky"]));
    const result = await engine.recognize(receipt);
    expect(result.text).toBe("third time lucky");
    expect(server.requests.length - before).toBe(3);
    expect(result.warnings).toEqual([
      "the server answered on attempt 3; earlier attempts failed: HTTP 500 Internal Server Error: fake error 500; no answer for 0.5 s",
    ]);
  });

  it("a repetition loop stops the stream and aborts the request: finish 'loop', repeats cut", async () => {
    const engine = await load();
    server.script(endless("la "));
    const result = await engine.recognize(receipt);
    expect(result.finish).toBe("loop");
    expect(result.text).toBe("la");
    expect(result.warnings[0]).toMatch(/^repetition loop: "la " × \d+ at the end; the request was stopped/);
    // The server saw the client hang up well before its 10 s stream was over.
    await new Promise((r) => setTimeout(r, 50));
    const seen = server.requests.at(-1)!;
    expect(seen.abortedByClient).toBe(true);
    expect(seen.chunksSent).toBeLessThan(400);
  });

  it("finish_reason 'length' is finish 'length'", async () => {
    const engine = await load({ maxNewTokens: 3 });
    server.script(stream(["one ", "two ", "three"], { finish: "length" }));
    const result = await engine.recognize(receipt);
    expect(result.finish).toBe("length");
    expect(result.warnings).toEqual(["output cut at --max-new-tokens 3"]);
  });

  it("keeps at most maxInFlight requests open however many pages are recognised at once", async () => {
    const engine = await load({ maxInFlight: 2 });
    expect(engine.maxConcurrency).toBe(2);
    server.setDefault(stream(["x", "y", "z"], { delayMs: 30 }));
    const before = server.requests.length;
    const base = server.maxActive;
    try {
      const results = await Promise.all(Array.from({ length: 5 }, () => engine.recognize(receipt)));
      expect(results.map((r) => r.text)).toEqual(Array(5).fill("xyz"));
      expect(server.requests.length - before).toBe(5);
      expect(server.maxActive).toBe(Math.max(base, 2));
    } finally {
      server.setDefault(stream(["Hello", " world"]));
    }
  });

  it("a blank page is not sent", async () => {
    const engine = await load();
    const before = server.requests.length;
    const white = { ...receipt, image: { data: new Uint8Array(64 * 64 * 3).fill(255), width: 64, height: 64 } };
    const result = await engine.recognize(white);
    expect(result).toMatchObject({ text: "", finish: "stop", warnings: ["blank page (no ink): the model was not run"] });
    expect(server.requests.length).toBe(before);
  });

  it("sends the key from --api-key-env as a bearer token", async () => {
    const engine = await load({ apiKeyEnv: "TEST_OPENAI_KEY", env: { TEST_OPENAI_KEY: "sk-test-123" } });
    await engine.recognize(receipt);
    expect(server.requests.at(-1)!.headers.authorization).toBe("Bearer sk-test-123");
  });
});

describe("scan --engine openai", () => {
  it("reads pages through the server: records with engine openai, the served model, tokens", async () => {
    server.script(stream(["GREENLEAF MARKET\n", "TOTAL 51.16"], { usage: { prompt_tokens: 700, completion_tokens: 8 } }));
    const { code, stdout, stderr } = await runCli(["scan", "fixtures/samples/receipt.png", "-e", "openai", "--base-url", server.url, "--model", "qwen3-vl", "--max-new-tokens", "512", "--max-pixels", "400000", "-f", "jsonl"], { env: env() });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const [record] = jsonl(stdout);
    assertPageRecord(record);
    expect(record).toMatchObject({ engine: "openai", model: "qwen3-vl", device: "remote", generation: { prompt: "plain" }, text: "GREENLEAF MARKET\nTOTAL 51.16", finish: "stop", tokens: { input: 700, output: 8 } });
    const { body } = server.requests.at(-1)!;
    expect(body).toMatchObject({ model: "qwen3-vl", max_tokens: 512, temperature: 0, stream: true });
    // The plain template's wording (with its empty language hint) is what the server reads.
    expect(body.messages[0]!.content[1]!.text!.trim()).toBe(PLAIN);
  });

  it("a dead server: a clear error for each page and exit 1", async () => {
    const port = await deadPort();
    const { code, stdout, stderr } = await runCli(["scan", "fixtures/samples/receipt.png", "fixtures/samples/menu-zh-en-ja.png", "-e", "openai", "--base-url", `http://127.0.0.1:${port}`, "--model", "m", "-f", "jsonl"], { env: env() });
    expect(code).toBe(1);
    const lines = stderr.trimEnd().split("\n");
    expect(lines).toEqual([
      `qwen-ocr: fixtures/samples/receipt.png: http://127.0.0.1:${port}/v1/chat/completions: cannot reach the server: connect ECONNREFUSED 127.0.0.1:${port} (gave up after 2 attempts)`,
      // The next page is tried once: the server was unreachable a moment ago.
      `qwen-ocr: fixtures/samples/menu-zh-en-ja.png: http://127.0.0.1:${port}/v1/chat/completions: cannot reach the server: connect ECONNREFUSED 127.0.0.1:${port} (gave up after 1 attempt)`,
    ]);
    const records = jsonl(stdout);
    records.forEach(assertPageRecord);
    expect(records.map((r) => r.error?.code)).toEqual(["engine_failed", "engine_failed"]);
  });

  it("without --base-url or --model: a usage error (exit 2) before any input is read", async () => {
    const { code, stderr, stdout } = await runCli(["scan", "fixtures/samples/receipt.png", "-e", "openai", "--model", "m"], { env: env() });
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^qwen-ocr: --engine openai needs --base-url URL .*missing: --base-url\n$/);
  });

  it("--api-key-env naming an unset variable is a usage error", async () => {
    const { code, stderr } = await runCli(["scan", "fixtures/samples/receipt.png", "-e", "openai", "--base-url", server.url, "--model", "m", "--api-key-env", "NOPE_KEY"], { env: env() });
    expect(code).toBe(2);
    expect(stderr).toContain("NOPE_KEY is not set");
  });

  it("structured templates are allowed (openai is generative): the answer is parsed into data", async () => {
    server.script(stream(['```json\n{"merchant": {"name": "GREENLEAF MARKET"}, "total": 51.16', ', "currency": "USD", "date": "2025-03-14", "items": []}\n```']));
    const { code, stdout } = await runCli(["scan", "fixtures/samples/receipt.png", "-e", "openai", "--base-url", server.url, "--model", "m", "--prompt", "receipt", "-f", "jsonl"], { env: env() });
    expect(code).toBe(0);
    const [record] = jsonl(stdout);
    expect(record.data).toMatchObject({ merchant: { name: "GREENLEAF MARKET" }, total: 51.16 });
    expect(server.requests.at(-1)!.body.messages[0]!.content[1]!.text).toMatch(/JSON/);
  });
});
