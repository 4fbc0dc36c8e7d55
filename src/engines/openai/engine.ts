/**
 * The openai engine: each page, at the same pixel budget as the local qwen engine, as a PNG (or
 * JPEG) data URL in one user turn with the prompt, to an OpenAI-compatible chat-completions server
 * (vLLM or SGLang serving Qwen3-VL), greedy, streamed, under the same loop guard. Pages may be
 * recognised concurrently; at most `maxInFlight` requests are open at once.
 */
import type { Engine, EngineInfo, EngineResult, Finish, Line, Page, RecognizeOptions } from "../../types.js";
import { isBlank, resizeRgb, smartResize } from "../qwen/image.js";
import { cutLoop, describeLoop, findLoop, type Loop } from "../qwen/loop.js";
import { DEFAULT_PROMPT } from "../qwen/prompt.js";
import { ChatError, chatCompletion, type ChatResult } from "./client.js";
import type { ImageFormat, OpenAiSettings } from "./options.js";

/** Qwen3-VL's visual token: 16-px patches merged 2 × 2. Sizes that are multiples of it reach the model unchanged. */
const FACTOR = 32;
const MIN_PIXELS = FACTOR * FACTOR * 4;

export class OpenAiEngine implements Engine {
  readonly info: EngineInfo;
  readonly loadMs: number;
  /** Pages the pipeline may hand over at once; more than this wait for a free request slot. */
  readonly maxConcurrency: number;
  private readonly settings: OpenAiSettings;
  private readonly slots: Limiter;
  private closed = false;
  /** The last page could not reach the server at all: try the next ones once, without retries, until one gets through. */
  private unreachable = false;

  constructor(settings: OpenAiSettings, loadMs: number) {
    this.settings = settings;
    this.loadMs = loadMs;
    this.maxConcurrency = settings.maxInFlight;
    this.slots = new Limiter(settings.maxInFlight);
    this.info = { engine: "openai", model: settings.model, device: "remote" };
  }

  async recognize(page: Page, options: RecognizeOptions = {}): Promise<EngineResult> {
    if (this.closed) throw new Error("openai engine is closed");
    const { signal } = options;
    const prompt = options.prompt ?? DEFAULT_PROMPT;
    const generation = this.generationRecord(prompt.name);
    const started = performance.now();
    signal?.throwIfAborted();

    if (isBlank(page.image)) {
      return {
        text: "",
        lines: [],
        finish: "stop",
        timings: { encodeMs: performance.now() - started },
        warnings: ["blank page (no ink): the model was not run"],
        tokens: { input: 0, output: 0 },
        generation,
      };
    }

    const release = await this.slots.acquire(signal);
    const queueMs = performance.now() - started;
    try {
      const t0 = performance.now();
      const url = await encodePage(page, this.settings.maxPixels, this.settings.imageFormat);
      const encodeMs = performance.now() - t0;
      signal?.throwIfAborted();
      const body = {
        model: this.settings.model,
        messages: [
          {
            role: "user",
            content: [
              { type: "image_url", image_url: { url } },
              { type: "text", text: prompt.text },
            ],
          },
        ],
        stream: true,
        stream_options: { include_usage: true },
        temperature: 0,
        max_tokens: this.settings.maxNewTokens,
      };
      let loop: Loop | undefined;
      const settings = this.unreachable ? { ...this.settings, retries: 0 } : this.settings;
      let result: ChatResult;
      try {
        result = await chatCompletion(settings, body, {
          signal,
          onText: options.onText,
          shouldStop: (text) => (loop = findLoop(text, this.settings.loop)) !== undefined,
        });
      } catch (err) {
        if (!signal?.aborted) this.unreachable = err instanceof ChatError && err.unreachable;
        throw err;
      }
      this.unreachable = false;

      const warnings: string[] = [];
      if (result.failures.length) {
        warnings.push(`the server answered on attempt ${result.attempts}; earlier attempts failed: ${result.failures.join("; ")}`);
      }
      let finish: Finish = "stop";
      let text = result.text;
      if (result.stopped && loop) {
        finish = "loop";
        text = cutLoop(text, loop);
        warnings.push(`repetition loop: ${describeLoop(loop)} at the end; the request was stopped and the repeats were cut`);
      } else if (result.finishReason === "length") {
        finish = "length";
        warnings.push(`output cut at --max-new-tokens ${this.settings.maxNewTokens}`);
      } else if (result.finishReason !== null && result.finishReason !== "stop") {
        warnings.push(`the server ended the answer with finish_reason '${result.finishReason}'`);
      }
      text = text.trim();
      const usage = result.usage;
      return {
        text,
        lines: toLines(text),
        finish,
        timings: { queueMs, encodeMs, firstTokenMs: result.firstTokenMs, decodeMs: result.decodeMs, ...(result.backoffMs ? { backoffMs: result.backoffMs } : {}) },
        warnings,
        ...(usage ? { tokens: { input: usage.prompt_tokens ?? 0, output: usage.completion_tokens ?? 0 } } : {}),
        generation,
      };
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private generationRecord(prompt: string): Record<string, number | boolean | string> {
    return {
      prompt,
      do_sample: false,
      temperature: 0,
      max_new_tokens: this.settings.maxNewTokens,
      max_pixels: this.settings.maxPixels,
      image_format: this.settings.imageFormat,
      loop_min_chars: this.settings.loop.minChars,
      loop_min_repeats: this.settings.loop.minRepeats,
    };
  }
}

/** The page at the pixel budget (both sides multiples of 32, as the model's processor wants), as a data URL. */
export async function encodePage(page: Page, maxPixels: number, format: ImageFormat): Promise<string> {
  const [width, height] = smartResize(page.image.width, page.image.height, FACTOR, Math.min(MIN_PIXELS, maxPixels), maxPixels);
  const image = await resizeRgb(page.image, width, height);
  const { default: sharp } = await import("sharp");
  const raw = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
  const bytes = format === "jpeg" ? await raw.jpeg({ quality: 92, chromaSubsampling: "4:4:4" }).toBuffer() : await raw.png({ compressionLevel: 6 }).toBuffer();
  return `data:image/${format};base64,${bytes.toString("base64")}`;
}

function toLines(text: string): Line[] {
  return text
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== "")
    .map((line) => ({ text: line }));
}

/** A counting semaphore: `acquire()` resolves with a release function once a slot is free. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.active < this.limit) {
      this.active++;
      return this.releaser();
    }
    await new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal?.reason ?? new Error("aborted"));
      };
      this.waiting.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    // The slot was handed over by release(): `active` already counts it.
    return this.releaser();
  }

  get inFlight(): number {
    return this.active;
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}
