/**
 * One chat completion against an OpenAI-compatible server (vLLM, SGLang, llama.cpp's server, …),
 * streamed, with retries: network errors, timeouts, 408/409/425/429 and 5xx are retried with
 * exponential backoff and full jitter (or the server's Retry-After); other answers fail at once.
 * The caller sees text as it arrives and can stop the stream (the request is then aborted, so the
 * server stops generating).
 */
import { oneLine } from "../../errors.js";
import { MAX_RETRY_AFTER_MS, type OpenAiSettings } from "./options.js";
import { sseEvents } from "./sse.js";

export interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

export interface ChatResult {
  text: string;
  /** The server's finish_reason (`stop`, `length`, …); null when the stream ended without one or the caller stopped it. */
  finishReason: string | null;
  /** The caller's `shouldStop` ended the stream (and aborted the request). */
  stopped: boolean;
  usage?: Usage;
  /** Attempts made, the successful one included. */
  attempts: number;
  /** Why each failed attempt failed, in order. */
  failures: string[];
  /** From the start of the successful attempt to its first text. */
  firstTokenMs: number;
  /** From the first text to the end of the successful attempt. */
  decodeMs: number;
  /** Time spent waiting between attempts. */
  backoffMs: number;
}

export interface ChatCallbacks {
  signal?: AbortSignal;
  /** New text, in order. After a retry, text already passed on is not passed on again. */
  onText?: (delta: string) => void;
  /** Called with the attempt's whole text after each delta; true ends the stream. */
  shouldStop?: (text: string) => boolean;
}

/** The request failed for good: every attempt failed, or the server's answer was not worth retrying. */
export class ChatError extends Error {
  /** The last attempt could not reach the server or got no answer in time. */
  readonly unreachable: boolean;
  readonly status?: number;

  constructor(message: string, last: RequestError) {
    super(message, { cause: last });
    this.name = "ChatError";
    this.unreachable = last.unreachable;
    if (last.status !== undefined) this.status = last.status;
  }
}

/** A failed attempt, and whether another one may help. */
export class RequestError extends Error {
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;
  /** The server could not be reached, or did not answer in time (no HTTP status, no stream). */
  readonly unreachable: boolean;

  constructor(message: string, opts: { retryable: boolean; status?: number; retryAfterMs?: number; unreachable?: boolean; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = "RequestError";
    this.retryable = opts.retryable;
    this.unreachable = opts.unreachable ?? false;
    if (opts.status !== undefined) this.status = opts.status;
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
  }
}

/** Statuses worth another attempt: the server is busy, restarting or overloaded. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.min(MAX_RETRY_AFTER_MS, Math.round(Number(trimmed) * 1000));
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, date - now));
}

/** Full-jitter exponential backoff before attempt `attempt + 1` (attempt counts from 0). */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(random() * ceiling);
}

export async function chatCompletion(settings: OpenAiSettings, body: Record<string, unknown>, callbacks: ChatCallbacks = {}): Promise<ChatResult> {
  const { signal } = callbacks;
  const failures: string[] = [];
  let emitted = 0;
  let waited = 0;
  const payload = JSON.stringify(body);
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    try {
      const result = await attemptOnce(settings, payload, {
        signal,
        shouldStop: callbacks.shouldStop,
        onText: (text, delta) => {
          // A retried stream repeats what the failed one already passed on: skip that part.
          if (text.length <= emitted) return;
          const fresh = text.length - delta.length >= emitted ? delta : text.slice(emitted);
          emitted = text.length;
          callbacks.onText?.(fresh);
        },
      });
      return { ...result, attempts: attempt + 1, failures, backoffMs: waited };
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      const failure = err instanceof RequestError ? err : networkError(err);
      failures.push(failure.message);
      if (!failure.retryable) throw new ChatError(`${settings.endpoint}: ${failure.message}`, failure);
      if (attempt >= settings.retries) {
        const tries = attempt + 1;
        throw new ChatError(`${settings.endpoint}: ${failure.message} (gave up after ${tries} attempt${tries === 1 ? "" : "s"})`, failure);
      }
      const delay = failure.retryAfterMs ?? backoffMs(attempt, settings.retryBaseMs, settings.retryMaxMs);
      const started = performance.now();
      await sleep(delay, signal);
      waited += performance.now() - started;
    }
  }
}

interface AttemptResult {
  text: string;
  finishReason: string | null;
  stopped: boolean;
  usage?: Usage;
  firstTokenMs: number;
  decodeMs: number;
}

async function attemptOnce(
  settings: OpenAiSettings,
  payload: string,
  callbacks: { signal?: AbortSignal; onText: (text: string, delta: string) => void; shouldStop?: (text: string) => boolean },
): Promise<AttemptResult> {
  const started = performance.now();
  const controller = new AbortController();
  const onAbort = () => controller.abort(callbacks.signal?.reason);
  callbacks.signal?.addEventListener("abort", onAbort, { once: true });
  // The timeout counts silence: it restarts whenever the server sends something, so a long page
  // that streams steadily is never cut, and a server that hangs is given up on.
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort(timeoutError(settings));
    }, settings.requestTimeoutMs);
  };
  arm();
  const headers: Record<string, string> = { "content-type": "application/json", accept: "text/event-stream, application/json" };
  if (settings.apiKey) headers.authorization = `Bearer ${settings.apiKey}`;
  try {
    let response: Response;
    try {
      response = await fetch(settings.endpoint, { method: "POST", headers, body: payload, signal: controller.signal });
    } catch (err) {
      throw timedOut ? timeoutError(settings) : err;
    }
    arm();
    if (!response.ok) throw await httpError(response);
    const type = response.headers.get("content-type") ?? "";
    if (!response.body) throw new RequestError("the server sent an empty response", { retryable: true });
    if (!type.includes("text/event-stream")) {
      // A server that ignores `stream: true` answers with one JSON object.
      const json = parseJson(await response.text());
      return fromMessage(json, callbacks, started);
    }

    let text = "";
    let finishReason: string | null = null;
    let usage: Usage | undefined;
    let firstAt: number | undefined;
    let done = false;
    try {
      for await (const data of sseEvents(response.body, arm)) {
        if (data.trim() === "[DONE]") {
          done = true;
          break;
        }
        const chunk = parseJson(data);
        serverErrorIn(chunk);
        if (isUsage(chunk.usage)) usage = chunk.usage;
        const choice = firstChoice(chunk);
        const delta = typeof choice?.delta?.content === "string" ? choice.delta.content : "";
        if (typeof choice?.finish_reason === "string") finishReason = choice.finish_reason;
        if (!delta) continue;
        firstAt ??= performance.now();
        text += delta;
        callbacks.onText(text, delta);
        if (callbacks.shouldStop?.(text)) {
          // Leaving the loop cancels the body; aborting closes the connection, which tells the
          // server to stop generating.
          controller.abort(new Error("stopped by the client"));
          const ended = performance.now();
          return { text, finishReason: null, stopped: true, ...(usage ? { usage } : {}), firstTokenMs: firstAt - started, decodeMs: ended - firstAt };
        }
      }
    } catch (err) {
      if (timedOut) throw timeoutError(settings);
      if (err instanceof RequestError || callbacks.signal?.aborted) throw err;
      throw new RequestError(`the stream broke off: ${describe(err)}`, { retryable: true, cause: err });
    }
    if (!done && finishReason === null) throw new RequestError("the stream ended before the answer was complete", { retryable: true });
    const ended = performance.now();
    const first = firstAt ?? ended;
    return { text, finishReason, stopped: false, ...(usage ? { usage } : {}), firstTokenMs: first - started, decodeMs: ended - first };
  } catch (err) {
    if (timedOut && !(err instanceof RequestError)) throw timeoutError(settings);
    throw err;
  } finally {
    clearTimeout(timer);
    callbacks.signal?.removeEventListener("abort", onAbort);
  }
}

interface Choice {
  delta?: { content?: unknown };
  message?: { content?: unknown };
  finish_reason?: unknown;
}

type Json = Record<string, unknown>;

function firstChoice(json: Json): Choice | undefined {
  const choices = json.choices;
  if (!Array.isArray(choices) || choices.length === 0) return undefined;
  const first = choices[0] as unknown;
  return typeof first === "object" && first !== null ? (first as Choice) : undefined;
}

function fromMessage(json: Json, callbacks: { onText: (text: string, delta: string) => void }, started: number): AttemptResult {
  serverErrorIn(json);
  const choice = firstChoice(json);
  if (!choice) throw new RequestError("the answer has no choices", { retryable: false });
  const text = typeof choice.message?.content === "string" ? choice.message.content : "";
  const now = performance.now();
  if (text) callbacks.onText(text, text);
  return {
    text,
    finishReason: typeof choice.finish_reason === "string" ? choice.finish_reason : null,
    stopped: false,
    ...(isUsage(json.usage) ? { usage: json.usage } : {}),
    firstTokenMs: now - started,
    decodeMs: 0,
  };
}

/** vLLM and others report a failure inside a 200 stream as `{"error": {...}}` or `{"object": "error", ...}`. */
function serverErrorIn(json: Json): void {
  const error = json.error ?? (json.object === "error" ? json : undefined);
  if (error === undefined || error === null) return;
  const e = (typeof error === "object" ? error : { message: String(error) }) as { message?: unknown; code?: unknown };
  const code = typeof e.code === "number" ? e.code : undefined;
  const message = typeof e.message === "string" ? e.message : JSON.stringify(error);
  throw new RequestError(`the server reported an error${code ? ` (${code})` : ""}: ${oneLine(message).slice(0, 300)}`, {
    retryable: code === undefined || isRetryableStatus(code),
    ...(code !== undefined ? { status: code } : {}),
  });
}

function isUsage(value: unknown): value is Usage {
  return typeof value === "object" && value !== null && ("prompt_tokens" in value || "completion_tokens" in value);
}

function parseJson(text: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new RequestError(`the server sent something that is not JSON: ${JSON.stringify(text.slice(0, 80))}`, { retryable: true });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new RequestError("the server sent JSON that is not an object", { retryable: true });
  return value as Json;
}

/** `HTTP 400 Bad Request: <the server's own message>`. */
async function httpError(response: Response): Promise<RequestError> {
  let detail = "";
  try {
    const body = (await response.text()).slice(0, 4000);
    detail = errorMessageIn(body) ?? oneLine(body).slice(0, 300);
  } catch {
    // The body is only for the message.
  }
  const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
  const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
  return new RequestError(detail ? `${status}: ${detail}` : status, {
    retryable: isRetryableStatus(response.status),
    status: response.status,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

function errorMessageIn(body: string): string | undefined {
  try {
    const json = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    const message = typeof json.error === "object" ? json.error?.message : (json.error ?? json.message ?? json.detail);
    if (message === undefined) return undefined;
    return oneLine(typeof message === "string" ? message : JSON.stringify(message)).slice(0, 300);
  } catch {
    return undefined;
  }
}

/** fetch's own failures: connection refused, reset, DNS, TLS. All worth another attempt. */
function networkError(err: unknown): RequestError {
  return new RequestError(`cannot reach the server: ${describe(err)}`, { retryable: true, unreachable: true, cause: err });
}

function timeoutError(settings: OpenAiSettings): RequestError {
  return new RequestError(`no answer for ${seconds(settings.requestTimeoutMs)}`, { retryable: true, unreachable: true });
}

/** undici hides the useful part ("connect ECONNREFUSED 127.0.0.1:8000") in `cause`. */
function describe(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string; code?: string } } | undefined;
  const cause = e?.cause?.message ?? e?.cause?.code;
  const message = e?.message ?? String(err);
  return oneLine(cause && message === "fetch failed" ? cause : cause ? `${message} (${cause})` : message);
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error("aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
