import { OcrError, UsageError, oneLine, toOcrError } from "./errors.js";
import type { Engine, EngineInfo, EngineResult, Page, PageRecord, Prompt, RecordError, TextLayer } from "./types.js";
import type { OpenedSource, PageFailure, PageRange, PageSelection } from "./pages/index.js";
import { selectedPages } from "./pages/selection.js";
import type { PdfTextMode } from "./pages/text-layer.js";
import type { Source } from "./inputs/index.js";
import type { LanguageStageOptions } from "./language/stage.js";
import { CACHE_VERSION, hashSource, pageKey, type CachedPage, type PageCache } from "./cache/index.js";

/** Progress and diagnostics, in the order they happen; the CLI turns them into stderr output. */
export type ScanEvent =
  | { type: "source-start"; source: string; pages: number }
  | { type: "text"; source: string; page: number; delta: string }
  | { type: "record"; record: PageRecord }
  /** `interrupted`: the run was stopped before this source's last page. */
  | { type: "source-end"; source: string; interrupted?: boolean }
  | { type: "note"; message: string };

/** An engine the pipeline may have to wait for: `ready()` loads it (a failure ends the run). */
export type PipelineEngine = Engine & { ready?(): Promise<unknown> };

export interface PipelineOptions {
  engine: PipelineEngine;
  dpi?: number;
  maxPixels?: number;
  pages?: PageSelection;
  /** For generative engines: the rendered template every page is read with, and what its answer is. */
  prompt?: TemplatePrompt;
  /** Add per-line languages and the page's language groups to each record. */
  languages?: LanguageStageOptions | false;
  /** A page that takes longer than this fails with `timeout`; 0 or undefined means no limit. */
  pageTimeoutMs?: number;
  /** Stops after the page(s) in flight: no new page or input is started, what is done is still yielded. */
  signal?: AbortSignal;
  onEvent?: (event: ScanEvent) => void;
  /** Result cache: a page found there is not read again, a page read is stored as soon as it is done. */
  cache?: PageCache;
  /**
   * Inputs worked on at once (default 1): opened, hashed, rasterized and read side by side, within
   * a window of this many consecutive inputs. Records still come out in input order. The engine
   * gets at most its `maxConcurrency` pages at once (1 unless it says otherwise).
   */
  concurrency?: number;
  /** Pages of an input rasterized ahead of the engine (default 2). */
  lookahead?: number;
  /** PDF pages' own text (`--pdf-text`), for the pages stage: a page read from its text layer skips the engine and the cache. Default `ocr`. */
  pdfText?: PdfTextMode;
}

export type InputItem = Source | { name: string; error: OcrError };

/** A prompt plus what the template says about its answer. */
export interface TemplatePrompt extends Prompt {
  /** `json` answers are parsed and validated into `data`. */
  output?: "text" | "markdown" | "json";
  schema?: Record<string, unknown>;
  /** The template asks the model to sort the text by language. */
  groupBy?: "language";
}

/** Records an input that is not the one being written may hold before its work pauses. */
const BUFFERED_RECORDS = 64;
const DEFAULT_LOOKAHEAD = 2;

/** State shared by the inputs of one run. */
interface Run {
  options: PipelineOptions;
  /** Stops the run: the caller's interrupt, or a fatal error / early exit of the consumer. */
  signal: AbortSignal;
  gate: Gate;
  openSource: typeof import("./pages/index.js").openSource;
  /** Set once a cache write failed: the run goes on without storing. */
  cacheWriteFailed: boolean;
}

/**
 * The pipeline: for each input in order, open it, and for each of its pages run the engine.
 * Yields one record per page, in input order, as soon as it (and everything before it) is done;
 * a failed input or page yields an error record and the run goes on. With `concurrency` > 1,
 * later inputs are worked on while earlier ones finish, their records held back (a bounded
 * number) until it is their turn.
 */
export async function* runPipeline(items: InputItem[], options: PipelineOptions): AsyncGenerator<PageRecord> {
  const { openSource } = await import("./pages/index.js");
  const stop = new AbortController();
  const onAbort = () => stop.abort(options.signal?.reason);
  if (options.signal?.aborted) return;
  options.signal?.addEventListener("abort", onAbort, { once: true });
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
  const run: Run = {
    options,
    signal: stop.signal,
    gate: new Gate(() => Math.max(1, Math.min(concurrency, options.engine.maxConcurrency ?? 1))),
    openSource,
    cacheWriteFailed: false,
  };
  try {
    if (concurrency === 1) {
      for (const item of items) {
        if (run.signal.aborted) return;
        yield* processItem(item, run);
      }
    } else {
      yield* ordered(items.map((item) => () => processItem(item, run)), concurrency, BUFFERED_RECORDS, stop);
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** One input: from the cache where its pages are there, else opened and read page by page. */
async function* processItem(item: InputItem, run: Run): AsyncGenerator<PageRecord> {
  const { options } = run;
  if ("error" in item) {
    yield emit(options, failedRecord(item.name, 0, 0, unread(options), item.error.toRecord()));
    return;
  }
  const cache = options.cache;
  let plan: CachePlan | undefined;
  if (cache) {
    let sourceHash: string;
    try {
      sourceHash = await hashSource(item);
    } catch (err) {
      yield emit(options, failedRecord(item.name, 0, 0, unread(options), toOcrError(err, "unreadable").toRecord()));
      return;
    }
    plan = { sourceHash, hits: new Set() };
    const known = await cache.store.getSource(sourceHash).catch(() => undefined);
    if (known) {
      plan.known = known.pages;
      const wanted = selectedPages(options.pages, known.pages);
      const found = await Promise.all(wanted.map((p) => cache.store.has(pageKey(cache.context, sourceHash, p))));
      wanted.forEach((p, i) => found[i] && plan!.hits.add(p));
      if (plan.hits.size === wanted.length) {
        // Every page is in the cache: the input is not even opened.
        options.onEvent?.({ type: "source-start", source: item.name, pages: known.pages });
        let interrupted = false;
        for (const p of wanted) {
          if (run.signal.aborted) {
            interrupted = true;
            break;
          }
          yield emit(options, await cachedOrRead(item, p, known.pages, plan, run));
        }
        options.onEvent?.({ type: "source-end", source: item.name, ...(interrupted ? { interrupted } : {}) });
        return;
      }
    }
  }

  let opened: OpenedSource;
  try {
    const pages = plan?.known !== undefined && plan.hits.size ? onlyPages(selectedPages(options.pages, plan.known).filter((p) => !plan!.hits.has(p))) : options.pages;
    opened = await run.openSource(item, { dpi: options.dpi, maxPixels: options.maxPixels, pages, pdfText: options.pdfText });
  } catch (err) {
    yield emit(options, failedRecord(item.name, 0, 0, unread(options), toOcrError(err, "corrupt").toRecord()));
    return;
  }
  options.onEvent?.({ type: "source-start", source: item.name, pages: opened.pageCount });
  let interrupted = false;
  try {
    if (cache && plan && plan.known === undefined) await storeSafely(run, () => cache.store.putSource(plan!.sourceHash, opened.pageCount));
    interrupted = yield* recognizePages(item, opened, plan, run);
  } finally {
    await opened.close();
    options.onEvent?.({ type: "source-end", source: item.name, ...(interrupted ? { interrupted } : {}) });
  }
}

interface CachePlan {
  sourceHash: string;
  /** The source's page count, when the cache knew it (then `hits` are the selected pages it holds). */
  known?: number;
  hits: Set<number>;
}

/** A selection of exactly these pages (ascending), as few ranges as possible. */
function onlyPages(pages: number[]): PageSelection {
  const ranges: PageRange[] = [];
  for (const p of pages) {
    const last = ranges[ranges.length - 1];
    if (last && last.to === p - 1) last.to = p;
    else ranges.push({ from: p, to: p });
  }
  return ranges;
}

/**
 * The pages of an opened source in order, cached ones merged in where they belong. Returns
 * whether the run was interrupted before the source's end.
 */
async function* recognizePages(item: Source, opened: OpenedSource, plan: CachePlan | undefined, run: Run): AsyncGenerator<PageRecord, boolean> {
  const { options } = run;
  const name = item.name;
  const cachedPages = plan?.known !== undefined ? [...plan.hits].sort((a, b) => a - b) : [];
  let nextCached = 0;
  const queue = new PageQueue(opened.pages()[Symbol.asyncIterator](), opened.pageCount, options.lookahead ?? DEFAULT_LOOKAHEAD);
  try {
    while (true) {
      // A turn of the event loop per page: native memory (canvases, decoded bitmaps) is released
      // by finalizers that run there, and a long PDF whose pages all resolve in microtasks would
      // otherwise hold every page's until the end (1.7 GB for 10,000 empty pages).
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (run.signal.aborted) return true;
      const step = await queue.next();
      const upTo = step.done ? Infinity : step.value.page === 0 ? -Infinity : step.value.page;
      while (nextCached < cachedPages.length && cachedPages[nextCached]! < upTo) {
        if (run.signal.aborted) return true;
        yield emit(options, await cachedOrRead(item, cachedPages[nextCached++]!, opened.pageCount, plan!, run));
      }
      if (step.done) return false;
      const page = step.value;
      if ("error" in page) {
        yield emit(options, failedRecord(name, page.page, page.pages, unread(options), page.error.toRecord()));
        if (page.page === 0) return false; // the page iterator itself broke: nothing more comes
        continue;
      }
      // The cache did not know this source when it was opened: another run may have stored the page since.
      const key = plan ? pageKey(options.cache!.context, plan.sourceHash, page.page) : undefined;
      const hit = key && plan!.known === undefined ? await options.cache!.store.get(key) : undefined;
      yield emit(options, hit ? await fromCache(hit, name, page, run) : await recognizeOne(page, run, key));
    }
  } finally {
    queue.close();
  }
}

/** A page the cache holds; if its entry went away meanwhile (a prune), the page is read again. */
async function cachedOrRead(item: Source, page: number, pages: number, plan: CachePlan, run: Run): Promise<PageRecord> {
  const { options } = run;
  const key = pageKey(options.cache!.context, plan.sourceHash, page);
  const entry = await options.cache!.store.get(key);
  if (entry) return fromCache(entry, item.name, undefined, run);
  let opened: OpenedSource;
  try {
    opened = await run.openSource(item, { dpi: options.dpi, maxPixels: options.maxPixels, pages: [{ from: page, to: page }], pdfText: options.pdfText });
  } catch (err) {
    return failedRecord(item.name, page, pages, unread(options), toOcrError(err, "corrupt").toRecord());
  }
  try {
    for await (const got of opened.pages()) {
      if ("error" in got) return failedRecord(item.name, page, pages, unread(options), got.error.toRecord());
      return await recognizeOne(got, run, key);
    }
    return failedRecord(item.name, page, pages, unread(options), { code: "render_failed", message: `page ${page} is gone` });
  } finally {
    await opened.close();
  }
}

/** The record of a cached page: its stored engine result, then the stages after the engine as they are now. */
async function fromCache(entry: CachedPage, source: string, page: Page | undefined, run: Run): Promise<PageRecord> {
  const started = performance.now();
  const facts: Page | PageFacts = page ?? {
    source,
    page: entry.page,
    pages: entry.pages,
    width: entry.width,
    height: entry.height,
    rasterizeMs: 0,
    warnings: entry.pageWarnings,
  };
  const record = pageRecord(facts, run.options, entry.result, 0, entry.info);
  record.timings = { rasterizeMs: round(facts.rasterizeMs), inferMs: 0, totalMs: 0 };
  record.cached = true;
  const finished = await finishRecord(record, run.options);
  finished.timings.totalMs = round(facts.rasterizeMs + performance.now() - started);
  return finished;
}

/**
 * Up to `depth` pages rasterized ahead of the one being read: the engine and the rasterizer work
 * at the same time, and no more than `depth` bitmaps wait. A failure inside the page iterator
 * itself comes out as a page-0 failure, after which the iterator is done.
 */
class PageQueue {
  private readonly pending: Array<Promise<IteratorResult<Page | PageFailure>>> = [];
  private ended = false;

  constructor(
    private readonly iterator: AsyncIterator<Page | PageFailure>,
    private readonly pages: number,
    private readonly depth: number,
  ) {}

  next(): Promise<IteratorResult<Page | PageFailure>> {
    while (!this.ended && this.pending.length < this.depth + 1) this.pending.push(this.pull());
    const head = this.pending.shift();
    if (!head) return Promise.resolve({ done: true, value: undefined });
    // Start the next page as soon as this one is taken.
    return head.then((step) => {
      if (step.done) this.ended = true;
      else if (!this.ended && this.pending.length < this.depth) this.pending.push(this.pull());
      return step;
    });
  }

  private async pull(): Promise<IteratorResult<Page | PageFailure>> {
    try {
      const step = await this.iterator.next();
      if (step.done) this.ended = true;
      return step;
    } catch (err) {
      this.ended = true;
      const failure: PageFailure = { page: 0, pages: this.pages, error: toOcrError(err, "render_failed") };
      return { done: false, value: failure };
    }
  }

  /** Drops pages rasterized ahead and not taken. */
  close(): void {
    this.ended = true;
    for (const p of this.pending.splice(0)) p.catch(() => {});
  }
}

async function recognizeOne(page: Page, run: Run, key?: string): Promise<PageRecord> {
  const { options } = run;
  if (page.textLayer) return textLayerRecord(page, page.textLayer, options);
  let started = performance.now();
  const controller = new AbortController();
  try {
    const result = await run.gate.run(async () => {
      // Loading the engine (the first page that needs it) is not part of a page's time limit.
      await options.engine.ready?.();
      started = performance.now();
      return withTimeout(
        options.engine.recognize(page, {
          prompt: options.prompt,
          signal: controller.signal,
          onText: options.onEvent
            ? (delta) => options.onEvent?.({ type: "text", source: page.source, page: page.page, delta })
            : undefined,
        }),
        options.pageTimeoutMs,
        controller,
      );
    });
    const inferMs = performance.now() - started;
    const info = options.engine.info;
    if (key && options.cache && !run.cacheWriteFailed) {
      const entry: CachedPage = {
        v: CACHE_VERSION,
        key,
        page: page.page,
        pages: page.pages,
        width: page.image.width,
        height: page.image.height,
        ...(page.dpi !== undefined ? { dpi: page.dpi } : {}),
        pageWarnings: page.warnings,
        info,
        result,
        rasterizeMs: round(page.rasterizeMs),
        inferMs: round(inferMs),
        created: new Date().toISOString(),
      };
      await storeSafely(run, () => options.cache!.store.put(entry));
    }
    return await finishRecord(pageRecord(page, options, result, inferMs, info), options);
  } catch (err) {
    if (isFatal(err)) throw err;
    const error = toOcrError(err, "engine_failed");
    const record = failedRecord(page.source, page.page, page.pages, options.engine.info, error.toRecord());
    record.timings.rasterizeMs = round(page.rasterizeMs);
    record.timings.totalMs = round(page.rasterizeMs + performance.now() - started);
    return record;
  }
}

/**
 * A PDF page read from its own text layer: no engine (it is not even loaded for this page), no
 * cache; the language stage still runs. A template that asks for more than the page's text is not
 * applied to it.
 */
async function textLayerRecord(page: Page, layer: TextLayer, options: PipelineOptions): Promise<PageRecord> {
  const started = performance.now();
  const info = unread(options);
  const record: PageRecord = {
    source: page.source,
    page: page.page,
    pages: page.pages,
    engine: info.engine,
    model: info.model,
    width: layer.width,
    height: layer.height,
    text: layer.text,
    lines: layer.lines,
    finish: "stop",
    origin: "text-layer",
    timings: { rasterizeMs: round(page.rasterizeMs), inferMs: 0, totalMs: 0 },
    warnings: [...page.warnings],
  };
  const { prompt } = options;
  if (prompt && prompt.output !== undefined && prompt.output !== "text") {
    record.warnings.push(`template '${prompt.name}' was not applied: the page's own text layer was read (--pdf-text ocr reads it with the template)`);
  }
  const finished = await finishRecord(record, { ...options, prompt: undefined });
  finished.timings.totalMs = round(page.rasterizeMs + performance.now() - started);
  return finished;
}

/** Errors that end the run rather than one page: a usage error, or an engine that could not load. */
function isFatal(err: unknown): boolean {
  return err instanceof UsageError || (typeof err === "object" && err !== null && (err as { fatal?: unknown }).fatal === true);
}

/** A cache write that fails (disk full, read-only cache) is said once; the run goes on without storing. */
async function storeSafely(run: Run, write: () => Promise<void>): Promise<void> {
  if (run.cacheWriteFailed) return;
  try {
    await write();
  } catch (err) {
    if (run.cacheWriteFailed) return;
    run.cacheWriteFailed = true;
    run.options.onEvent?.({ type: "note", message: `cache: cannot store results (${oneLine((err as Error).message ?? String(err))}); going on without storing` });
  }
}

/** A counting semaphore whose size may change (a lazily loaded engine says its own once loaded). */
class Gate {
  private active = 0;
  private waiting: Array<() => void> = [];

  constructor(private readonly limit: () => number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    while (this.active >= this.limit()) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      // Wake everyone: each re-checks the (possibly larger) limit.
      for (const wake of this.waiting.splice(0)) wake();
    }
  }
}

/**
 * Runs up to `concurrency` producers at once, within a window of that many consecutive ones, and
 * yields their items in producer order: the first producer's items as they come, the others'
 * held (each pauses once it holds `limit` items) until every producer before it is done.
 */
async function* ordered<T>(producers: Array<() => AsyncGenerator<T>>, concurrency: number, limit: number, stop: AbortController): AsyncGenerator<T> {
  interface Slot {
    items: T[];
    done: boolean;
    failed: boolean;
    error?: unknown;
    wake?: () => void;
    resume?: () => void;
    finished: Promise<void>;
  }
  const slots: Slot[] = [];
  let head = 0;
  const launch = (index: number) => {
    const slot: Slot = { items: [], done: false, failed: false, finished: Promise.resolve() };
    slots[index] = slot;
    slot.finished = (async () => {
      try {
        for await (const item of producers[index]!()) {
          slot.items.push(item);
          slot.wake?.();
          while (slot.items.length >= limit && index !== head && !stop.signal.aborted) {
            await new Promise<void>((resolve) => (slot.resume = resolve));
          }
        }
      } catch (err) {
        slot.failed = true;
        slot.error = err;
        stop.abort(err);
      } finally {
        slot.done = true;
        slot.wake?.();
      }
    })();
  };
  const fill = () => {
    while (slots.length < producers.length && slots.length < head + concurrency && !stop.signal.aborted) launch(slots.length);
  };
  try {
    fill();
    while (head < slots.length) {
      const slot = slots[head]!;
      slot.resume?.();
      while (!slot.items.length && !slot.done) await new Promise<void>((resolve) => (slot.wake = resolve));
      slot.wake = undefined;
      if (slot.items.length) {
        yield slot.items.shift()!;
        continue;
      }
      if (slot.failed) throw slot.error;
      await slot.finished;
      head++;
      fill();
    }
  } finally {
    // Early exit or a failure: let every producer see the stop and wind down.
    if (head < slots.length) {
      stop.abort();
      for (const slot of slots) slot?.resume?.();
      await Promise.all(slots.map((s) => s?.finished));
    }
  }
}

/** The stages after the engine: structured data from JSON templates, then languages. */
async function finishRecord(record: PageRecord, options: PipelineOptions): Promise<PageRecord> {
  const { prompt } = options;
  if (prompt?.output === "json") {
    const { parseJsonAnswer } = await import("./prompts/parse-json.js");
    const parsed = await parseJsonAnswer(record.text, prompt.schema);
    if ("error" in parsed) {
      record.error = { code: "invalid_output", message: `the answer is not valid '${prompt.name}' JSON: ${parsed.error.message}` };
    } else {
      record.data = parsed.data;
    }
  }
  if (options.languages === false || options.languages === undefined) return record;
  const { addLanguages } = await import("./language/stage.js");
  return addLanguages(record, { ...options.languages, fromAnswer: prompt?.groupBy === "language" });
}

function withTimeout<T>(work: Promise<T>, ms: number | undefined, controller: AbortController): Promise<T> {
  if (!ms || ms <= 0) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new OcrError("timeout", `page took longer than ${formatSeconds(ms)}`);
      controller.abort(error);
      reject(error);
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** What a record needs to know of its page: a rasterized page, or what the cache kept of one. */
type PageFacts = Pick<Page, "source" | "page" | "pages" | "rasterizeMs" | "warnings"> & { width: number; height: number };

function pageRecord(page: Page | PageFacts, options: PipelineOptions, result: EngineResult, inferMs: number, info: EngineInfo = options.engine.info): PageRecord {
  const record: PageRecord = {
    source: page.source,
    page: page.page,
    pages: page.pages,
    engine: info.engine,
    model: info.model,
    ...(info.revision ? { revision: info.revision } : {}),
    ...(info.dtype ? { dtype: info.dtype } : {}),
    ...(info.device ? { device: info.device } : {}),
    ...(options.prompt ? { prompt: options.prompt.name } : {}),
    ...(result.generation ? { generation: result.generation } : {}),
    width: "image" in page ? page.image.width : page.width,
    height: "image" in page ? page.image.height : page.height,
    text: result.text,
    lines: result.lines,
    finish: result.finish,
    origin: "ocr",
    ...(result.rotation !== undefined ? { rotation: result.rotation } : {}),
    ...(result.tokens ? { tokens: result.tokens } : {}),
    timings: {
      rasterizeMs: round(page.rasterizeMs),
      inferMs: round(inferMs),
      totalMs: round(page.rasterizeMs + inferMs),
      ...roundAll(result.timings),
    },
    warnings: [...page.warnings, ...result.warnings],
  };
  return record;
}

/**
 * Who a record of a page the engine never saw is from: the engine's name, no model. (Whether
 * the engine was loaded by then depends on timing, and a record must not.)
 */
function unread(options: PipelineOptions): EngineInfo {
  return { engine: options.engine.info.engine, model: "" };
}

export function failedRecord(source: string, page: number, pages: number, info: EngineInfo, error: RecordError): PageRecord {
  return {
    source,
    page,
    pages,
    engine: info.engine,
    model: info.model,
    text: "",
    lines: [],
    timings: { rasterizeMs: 0, inferMs: 0, totalMs: 0 },
    warnings: [],
    error,
  };
}

function emit(options: PipelineOptions, record: PageRecord): PageRecord {
  options.onEvent?.({ type: "record", record });
  return record;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function roundAll(timings: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, round(v)]));
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
