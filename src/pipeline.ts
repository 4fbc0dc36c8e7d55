import { OcrError, toOcrError } from "./errors.js";
import type { Engine, EngineInfo, EngineResult, Page, PageRecord, Prompt, RecordError } from "./types.js";
import type { OpenedSource, PageFailure, PageSelection } from "./pages/index.js";
import type { Source } from "./inputs/index.js";
import type { LanguageStageOptions } from "./language/stage.js";

/** Progress and diagnostics, in the order they happen; the CLI turns them into stderr output. */
export type ScanEvent =
  | { type: "source-start"; source: string; pages: number }
  | { type: "text"; source: string; page: number; delta: string }
  | { type: "record"; record: PageRecord }
  | { type: "source-end"; source: string };

export interface PipelineOptions {
  engine: Engine;
  dpi?: number;
  maxPixels?: number;
  pages?: PageSelection;
  /** For generative engines: the rendered template every page is read with, and what its answer is. */
  prompt?: TemplatePrompt;
  /** Add per-line languages and the page's language groups to each record. */
  languages?: LanguageStageOptions | false;
  /** A page that takes longer than this fails with `timeout`; 0 or undefined means no limit. */
  pageTimeoutMs?: number;
  /** Stops after the page in flight. */
  signal?: AbortSignal;
  onEvent?: (event: ScanEvent) => void;
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

/**
 * The thin pipeline: for each input in order, open it, and for each of its pages run the engine.
 * Yields one record per page, in input order, as soon as it is done; a failed input or page
 * yields an error record and the run goes on.
 */
export async function* runPipeline(items: InputItem[], options: PipelineOptions): AsyncGenerator<PageRecord> {
  const { openSource } = await import("./pages/index.js");
  for (const item of items) {
    if (options.signal?.aborted) return;
    if ("error" in item) {
      yield emit(options, failedRecord(item.name, 0, 0, options.engine.info, item.error.toRecord()));
      continue;
    }
    let opened: OpenedSource;
    try {
      opened = await openSource(item, { dpi: options.dpi, maxPixels: options.maxPixels, pages: options.pages });
    } catch (err) {
      yield emit(options, failedRecord(item.name, 0, 0, options.engine.info, toOcrError(err, "corrupt").toRecord()));
      continue;
    }
    options.onEvent?.({ type: "source-start", source: item.name, pages: opened.pageCount });
    try {
      yield* recognizePages(item.name, opened, options);
    } finally {
      await opened.close();
      options.onEvent?.({ type: "source-end", source: item.name });
    }
  }
}

async function* recognizePages(name: string, opened: OpenedSource, options: PipelineOptions): AsyncGenerator<PageRecord> {
  const iterator = opened.pages()[Symbol.asyncIterator]();
  // Rasterizing the next page overlaps recognition of the current one: one page of look-ahead
  // keeps both busy without holding more than two bitmaps.
  let next = nextPage(iterator, opened.pageCount);
  while (true) {
    const step = await next;
    if (step.done) return;
    if (options.signal?.aborted) return;
    next = nextPage(iterator, opened.pageCount);
    const item = step.value;
    if ("error" in item) {
      yield emit(options, failedRecord(name, item.page, item.pages, options.engine.info, item.error.toRecord()));
      continue;
    }
    yield emit(options, await recognizeOne(item, options));
  }
}

/** A failure inside the page iterator itself (not a yielded PageFailure) ends the source with one error record. */
async function nextPage(iterator: AsyncIterator<Page | PageFailure>, pages: number): Promise<IteratorResult<Page | PageFailure>> {
  try {
    return await iterator.next();
  } catch (err) {
    const failure: PageFailure = { page: 0, pages, error: toOcrError(err, "render_failed") };
    return { done: false, value: failure };
  }
}

async function recognizeOne(page: Page, options: PipelineOptions): Promise<PageRecord> {
  const started = performance.now();
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const result = await withTimeout(
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
    const inferMs = performance.now() - started;
    return await finishRecord(pageRecord(page, options, result, inferMs), options);
  } catch (err) {
    const error = toOcrError(err, "engine_failed");
    const record = failedRecord(page.source, page.page, page.pages, options.engine.info, error.toRecord());
    record.timings.rasterizeMs = round(page.rasterizeMs);
    record.timings.totalMs = round(page.rasterizeMs + performance.now() - started);
    return record;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
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

function pageRecord(page: Page, options: PipelineOptions, result: EngineResult, inferMs: number): PageRecord {
  const { info } = options.engine;
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
    width: page.image.width,
    height: page.image.height,
    text: result.text,
    lines: result.lines,
    finish: result.finish,
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
