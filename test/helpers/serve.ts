// Helpers for the `qwen-ocr serve` tests: a server on an ephemeral loopback port, fake engines
// that can be held back or counted, uploads and NDJSON reading.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PDFDocument, rgb } from "pdf-lib";
import { startServer, type OcrServer, type ServeOptions } from "../../src/serve/server.js";
import type { EngineFactory, EngineResult, Page, RecognizeOptions } from "../../src/types.js";
import { ROOT } from "./cli.js";

export const SAMPLES = path.join(ROOT, "fixtures/samples");
export const sample = (name: string) => readFileSync(path.join(SAMPLES, name));

export interface TestServer {
  server: OcrServer;
  url: string;
  logs: string[];
  /** Where the server makes its private upload directories. */
  tmp: string;
}

export async function startTestServer(options: ServeOptions = {}): Promise<TestServer> {
  const logs: string[] = [];
  const tmp = mkdtempSync(path.join(tmpdir(), "qocr-serve-test-"));
  const server = await startServer({ host: "127.0.0.1", port: 0, tmpDir: tmp, log: (line) => logs.push(line), ...options });
  return { server, url: server.url.replace(/\/$/, ""), logs, tmp };
}

export function textResult(text: string): EngineResult {
  return {
    text,
    lines: text.split("\n").map((line, i) => ({ text: line, bbox: [0, i * 10, 100, i * 10 + 10], confidence: 1 })),
    finish: "stop",
    timings: {},
    warnings: [],
  };
}

/** A fake engine that counts its calls and can be held back: each page waits until `release()` (or its abort). */
export interface ControlledEngine extends EngineFactory {
  calls: number;
  prompts: string[];
  /** Lets `n` more pages through (all when omitted), now and from now on when `open` is set. */
  release(n?: number): void;
  open: boolean;
  /** Resolves when `calls` reaches `n`. */
  waitForCalls(n: number): Promise<void>;
}

export function controlledEngine(name: string, options: { delayMs?: number; generative?: boolean; open?: boolean } = {}): ControlledEngine {
  let permits = 0;
  const waiting: Array<() => void> = [];
  const callWaiters: Array<{ n: number; resolve: () => void }> = [];
  const engine: ControlledEngine = {
    name,
    description: `test engine ${name}`,
    generative: options.generative,
    calls: 0,
    prompts: [],
    open: options.open ?? true,
    available: async () => ({ ok: true }),
    release(n) {
      permits += n ?? Number.POSITIVE_INFINITY;
      while (permits > 0 && waiting.length) {
        permits--;
        waiting.shift()!();
      }
      if (n === undefined) engine.open = true;
    },
    waitForCalls(n) {
      if (engine.calls >= n) return Promise.resolve();
      return new Promise((resolve) => callWaiters.push({ n, resolve }));
    },
    load: async () => ({
      info: { engine: name, model: `fake-${name}`, device: "cpu" },
      loadMs: 0,
      close: async () => {},
      recognize: async (page: Page, opts: RecognizeOptions = {}) => {
        engine.calls++;
        engine.prompts.push(opts.prompt?.text ?? "");
        for (const w of callWaiters.filter((w) => engine.calls >= w.n)) {
          callWaiters.splice(callWaiters.indexOf(w), 1);
          w.resolve();
        }
        if (!engine.open) {
          await new Promise<void>((resolve, reject) => {
            if (permits > 0) {
              permits--;
              resolve();
              return;
            }
            waiting.push(resolve);
            opts.signal?.addEventListener("abort", () => reject(opts.signal?.reason ?? new Error("aborted")), { once: true });
          });
        }
        if (options.delayMs) {
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(resolve, options.delayMs);
            opts.signal?.addEventListener("abort", () => {
              clearTimeout(timer);
              reject(opts.signal?.reason ?? new Error("aborted"));
            }, { once: true });
          });
        }
        return textResult(`${name} read page ${page.page} of ${page.pages} (${page.image.width}x${page.image.height})\nsecond line`);
      },
    }),
  };
  return engine;
}

/** A fetch Response whose JSON is untyped, as JSON.parse's is in the other tests. */
export type JsonResponse = Omit<Response, "json"> & { json(): Promise<any> };

export const http = (input: string, init?: RequestInit): Promise<JsonResponse> => fetch(input, init);

export interface PostOptions {
  fields?: Record<string, string | string[]>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  filename?: string;
  signal?: AbortSignal;
}

/** POST /v1/ocr with the file as the multipart field `file`. */
export function postFile(url: string, file: Buffer | string, options: PostOptions = {}): Promise<JsonResponse> {
  const bytes = typeof file === "string" ? sample(file) : file;
  const form = new FormData();
  for (const [k, v] of Object.entries(options.fields ?? {})) for (const value of Array.isArray(v) ? v : [v]) form.append(k, value);
  form.append("file", new Blob([new Uint8Array(bytes)]), options.filename ?? (typeof file === "string" ? file : "upload.bin"));
  const query = options.query ? `?${new URLSearchParams(options.query)}` : "";
  return fetch(`${url}/v1/ocr${query}`, { method: "POST", body: form, headers: options.headers, signal: options.signal });
}

/** Reads an NDJSON body line by line, calling `onRecord` as each arrives. */
export async function readNdjson(response: JsonResponse, onRecord?: (record: Record<string, unknown>) => void): Promise<Array<Record<string, unknown>>> {
  const records: Array<Record<string, unknown>> = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buffer += value;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.trim()) continue;
      const record = JSON.parse(line) as Record<string, unknown>;
      records.push(record);
      onRecord?.(record);
    }
    if (done) return records;
  }
}

/** A PDF of `pages` scanned-like pages: bars, no text layer, so every page goes to the engine. */
export async function makePdf(pages: number): Promise<Buffer> {
  const doc = await PDFDocument.create();
  for (let i = 1; i <= pages; i++) {
    const page = doc.addPage([300, 200]);
    for (let b = 0; b < i; b++) page.drawRectangle({ x: 20 + b * 12, y: 60, width: 8, height: 80, color: rgb(0, 0, 0) });
  }
  return Buffer.from(await doc.save());
}

export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out waiting for a condition");
    await new Promise((r) => setTimeout(r, 20));
  }
}
