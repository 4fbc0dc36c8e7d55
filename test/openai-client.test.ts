// The openai engine's protocol pieces: SSE parsing, backoff, Retry-After, settings, and the
// client's retries against a local server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SseParser } from "../src/engines/openai/sse.js";
import { backoffMs, chatCompletion, ChatError, isRetryableStatus, parseRetryAfter } from "../src/engines/openai/client.js";
import { normalizeBaseUrl, settingsFrom, type OpenAiSettings } from "../src/engines/openai/options.js";
import { UsageError } from "../src/errors.js";
import { breakOff, deadPort, hang, startServer, status, stream, type FakeServer } from "./helpers/openai-server.js";

describe("SseParser", () => {
  it("yields each event's data whatever the chunking, CRLF or LF, skipping comments and other fields", () => {
    const wire = ': keep-alive\r\n\r\nevent: message\r\ndata: {"a":1}\r\n\r\ndata: first\ndata: second\n\nid: 7\nretry: 100\ndata:no-space\n\ndata: [DONE]\n\n';
    const whole = new SseParser();
    const expected = ['{"a":1}', "first\nsecond", "no-space", "[DONE]"];
    expect([...whole.push(wire), ...whole.end()]).toEqual(expected);
    // Every split point, including inside a CRLF pair.
    for (let i = 1; i < wire.length; i++) {
      const parser = new SseParser();
      expect([...parser.push(wire.slice(0, i)), ...parser.push(wire.slice(i)), ...parser.end()]).toEqual(expected);
    }
  });

  it("keeps a last event that has no closing blank line", () => {
    const parser = new SseParser();
    expect([...parser.push("data: x\n\ndata: tail"), ...parser.end()]).toEqual(["x", "tail"]);
  });
});

describe("retry policy", () => {
  it("retries 408, 409, 425, 429 and 5xx only", () => {
    expect([400, 401, 403, 404, 408, 409, 413, 422, 425, 429, 500, 502, 503, 504].filter(isRetryableStatus)).toEqual([408, 409, 425, 429, 500, 502, 503, 504]);
  });

  it("full-jitter backoff grows exponentially up to the cap", () => {
    expect([0, 1, 2, 3, 10].map((a) => backoffMs(a, 100, 1000, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffMs(3, 100, 1000, () => 0)).toBe(0);
    expect(backoffMs(2, 100, 1000, () => 0.5)).toBe(200);
  });

  it("reads Retry-After as seconds or as an HTTP date, capped at 5 minutes", () => {
    expect(parseRetryAfter("2")).toBe(2000);
    expect(parseRetryAfter("0.5")).toBe(500);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter("soon")).toBeUndefined();
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:03 GMT", now)).toBe(3000);
    expect(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfter("86400")).toBe(300_000);
  });
});

describe("settings", () => {
  it("needs --base-url and --model, as usage errors", () => {
    expect(() => settingsFrom({})).toThrow(UsageError);
    expect(() => settingsFrom({ model: "m" })).toThrow(/--base-url/);
    expect(() => settingsFrom({ baseUrl: "http://h:8000/v1" })).toThrow(/missing: --model/);
    expect(() => settingsFrom({ baseUrl: "ftp://h", model: "m" })).toThrow(/http/);
    expect(() => settingsFrom({ baseUrl: "not a url", model: "m" })).toThrow(/not a URL/);
  });

  it("normalises the base URL: /v1 added to a bare host, a trailing slash or the endpoint itself dropped", () => {
    expect(normalizeBaseUrl("http://gpu:8000")).toBe("http://gpu:8000/v1");
    expect(normalizeBaseUrl("http://gpu:8000/")).toBe("http://gpu:8000/v1");
    expect(normalizeBaseUrl("http://gpu:8000/v1/")).toBe("http://gpu:8000/v1");
    expect(normalizeBaseUrl("https://host/openai/v1/chat/completions")).toBe("https://host/openai/v1");
    expect(() => normalizeBaseUrl("http://user:pw@gpu:8000/v1")).toThrow(/--api-key-env/);
  });

  it("reads the API key from the variable --api-key-env names, never from a flag", () => {
    const s = settingsFrom({ baseUrl: "http://h/v1", model: "m", apiKeyEnv: "MY_KEY", env: { MY_KEY: "sk-123" } });
    expect(s.apiKey).toBe("sk-123");
    expect(() => settingsFrom({ baseUrl: "http://h/v1", model: "m", apiKeyEnv: "MY_KEY", env: {} })).toThrow(/MY_KEY is not set/);
    expect(settingsFrom({ baseUrl: "http://h/v1", model: "m", env: { OPENAI_API_KEY: "sk-x" } }).apiKey).toBeUndefined();
  });

  it("defaults: 2048 tokens, the qwen pixel budget, 4 in flight, 4 retries", () => {
    expect(settingsFrom({ baseUrl: "http://h/v1", model: "m" })).toMatchObject({
      endpoint: "http://h/v1/chat/completions",
      maxNewTokens: 2048,
      maxPixels: 1310720,
      maxInFlight: 4,
      retries: 4,
      imageFormat: "png",
    });
  });
});

describe("chatCompletion against a local server", () => {
  let server: FakeServer;
  let settings: OpenAiSettings;
  const body = { model: "m", messages: [], stream: true, stream_options: { include_usage: true } };
  beforeAll(async () => {
    server = await startServer();
    settings = settingsFrom({ baseUrl: server.url, model: "m", retries: 3, retryBaseMs: 5, retryMaxMs: 20, requestTimeoutMs: 400 });
  });
  afterAll(() => server.close());

  it("streams text, finish reason and usage", async () => {
    server.script(stream(["A", "B", "C"], { usage: { prompt_tokens: 10, completion_tokens: 3 } }));
    const deltas: string[] = [];
    const result = await chatCompletion(settings, body, { onText: (d) => deltas.push(d) });
    expect(result).toMatchObject({ text: "ABC", finishReason: "stop", stopped: false, attempts: 1, failures: [], usage: { prompt_tokens: 10, completion_tokens: 3 } });
    expect(deltas).toEqual(["A", "B", "C"]);
  });

  it("retries a 500, a timeout and a broken stream, then succeeds; text already streamed is not streamed twice", async () => {
    const before = server.requests.length;
    server.script(status(500), hang(), breakOff(["Hel"]), stream(["Hel", "lo"]));
    const deltas: string[] = [];
    const result = await chatCompletion(settings, body, { onText: (d) => deltas.push(d) });
    expect(result.text).toBe("Hello");
    expect(deltas.join("")).toBe("Hello");
    expect(result.attempts).toBe(4);
    expect(result.failures).toEqual([
      expect.stringMatching(/^HTTP 500 Internal Server Error: fake error 500$/),
      "no answer for 0.4 s",
      expect.stringMatching(/stream (broke off|ended before)/),
    ]);
    expect(server.requests.length - before).toBe(4);
    // The request that hung was given up on (the connection closed by the client).
    expect(server.requests[before + 1]!.abortedByClient).toBe(true);
  });

  it("honours Retry-After on a 429", async () => {
    server.script(status(429, { "retry-after": "1" }), stream(["ok"]));
    const started = performance.now();
    const result = await chatCompletion(settings, body);
    expect(result.text).toBe("ok");
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(result.backoffMs).toBeGreaterThanOrEqual(950);
  });

  it("does not retry a 400; the server's message is in the error", async () => {
    const before = server.requests.length;
    server.script(status(400, {}, "image too large"));
    const err = await chatCompletion(settings, body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChatError);
    expect((err as ChatError).message).toBe(`${settings.endpoint}: HTTP 400 Bad Request: image too large`);
    expect((err as ChatError).unreachable).toBe(false);
    expect(server.requests.length - before).toBe(1);
  });

  it("gives up after the retries with the last reason", async () => {
    server.script(status(503), status(503), status(503), status(503));
    await expect(chatCompletion(settings, body)).rejects.toThrow(/HTTP 503 Service Unavailable: fake error 503 \(gave up after 4 attempts\)$/);
  });

  it("an error reported inside the stream is an error", async () => {
    server.script(
      (_req, res) => {
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.end(`data: ${JSON.stringify({ error: { message: "context too long", code: 400 } })}\n\n`);
      },
    );
    await expect(chatCompletion(settings, body)).rejects.toThrow(/the server reported an error \(400\): context too long/);
  });

  it("a server that ignores stream: true and answers with one JSON object still works", async () => {
    server.script((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ choices: [{ index: 0, message: { role: "assistant", content: "whole answer" }, finish_reason: "length" }], usage: { prompt_tokens: 5, completion_tokens: 2 } }));
    });
    const deltas: string[] = [];
    const result = await chatCompletion(settings, body, { onText: (d) => deltas.push(d) });
    expect(result).toMatchObject({ text: "whole answer", finishReason: "length", usage: { prompt_tokens: 5, completion_tokens: 2 } });
    expect(deltas).toEqual(["whole answer"]);
  });

  it("the caller's abort stops the request at once, without retries", async () => {
    const before = server.requests.length;
    server.script(hang());
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("page timed out")), 100);
    await expect(chatCompletion({ ...settings, requestTimeoutMs: 10_000 }, body, { signal: controller.signal })).rejects.toThrow("page timed out");
    expect(server.requests.length - before).toBe(1);
  });

  it("a dead server: connection refused, retried, then a clear error", async () => {
    const port = await deadPort();
    const dead = settingsFrom({ baseUrl: `http://127.0.0.1:${port}/v1`, model: "m", retries: 2, retryBaseMs: 5, retryMaxMs: 10 });
    const err = await chatCompletion(dead, body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChatError);
    expect((err as ChatError).message).toBe(`http://127.0.0.1:${port}/v1/chat/completions: cannot reach the server: connect ECONNREFUSED 127.0.0.1:${port} (gave up after 3 attempts)`);
    expect((err as ChatError).unreachable).toBe(true);
  });
});
