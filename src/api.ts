import path from "node:path";
import type { Readable } from "node:stream";
import { loadPlugin, resolveEngine } from "./engines/registry.js";
import { failedRecord, runPipeline, type InputItem, type PipelineEngine, type ScanEvent } from "./pipeline.js";
import { resolveInputs, type Source } from "./inputs/index.js";
import { inShard, type Shard } from "./inputs/shard.js";
import { DEFAULT_DPI, DEFAULT_MAX_PIXELS } from "./pages/limits.js";
import type { PageSelection } from "./pages/index.js";
import { effectivePdfText, type PdfTextMode } from "./pages/text-layer.js";
import { UsageError } from "./errors.js";
import type { LanguageStageOptions } from "./language/stage.js";
import type { TemplatePrompt } from "./pipeline.js";
import type { PageCache } from "./cache/index.js";
import type { Engine, EngineFactory, EngineInfo, EngineOptions, Page, PageRecord, RecognizeOptions } from "./types.js";

export type ApiEvent =
  | ScanEvent
  | { type: "note"; message: string }
  | { type: "engine-loading"; engine: string }
  | { type: "engine-ready"; info: EngineInfo; loadMs: number }
  /** Every input the arguments resolved to, in order, before `shard` and `skip` leave any out. */
  | { type: "inputs"; names: string[] }
  /** An input left out by `skip`. */
  | { type: "skipped"; source: string };

export interface ScanOptions {
  /** An engine name (`auto`, `ppocr`, …) or an engine you loaded yourself (it is not closed). */
  engine?: string | Engine;
  engineOptions?: EngineOptions;
  /** Modules that register extra engines (see `registerEngine`). */
  plugins?: string[];
  /** PDF rasterization resolution; default 200. */
  dpi?: number;
  /**
   * PDF pages' own text: `auto` (default) uses a page's text layer when it is real text and OCRs
   * the other pages; `ocr` OCRs every page; `text` never OCRs. Records say which (`origin`).
   */
  pdfText?: PdfTextMode;
  /** Which pages of every input to read. */
  pages?: PageSelection;
  /** Fail a page that takes longer than this; 0 or absent: no limit. */
  pageTimeoutMs?: number;
  /** A template from `prompts/` by name, or a template file, for generative engines. */
  prompt?: string;
  /** Values for the template's `{{placeholders}}`. */
  vars?: Record<string, string>;
  /** The page's languages (e.g. ["ja", "en"]), for templates that mention them. */
  langHint?: string[];
  /** Per-line `lang` and the page's `languages` groups; on unless `false`. */
  languages?: LanguageStageOptions | false;
  /** Stops after the page(s) in flight; what is done is still yielded. */
  signal?: AbortSignal;
  /**
   * Result cache: `true` for the user cache (`$QWEN_OCR_HOME/results`, else e.g.
   * `~/.cache/qwen-ocr/results`), a directory, or `false`/absent for none. Pages found there come
   * back with `cached: true` and the engine is not even loaded unless some page is missing.
   */
  cache?: boolean | string;
  /** Inputs worked on at once (default 1); records still come in input order. */
  concurrency?: number;
  /** Only one of `count` disjoint parts of the inputs (CI job matrices), chosen by a hash of each input's path. */
  shard?: Shard;
  /** Asked for each input before it is opened: `true` leaves it out (no record). */
  skip?: (source: Source) => boolean | Promise<boolean>;
  cwd?: string;
  /** Read for the input `-`. */
  stdin?: Readable;
  onEvent?: (event: ApiEvent) => void;
}

/**
 * OCRs the inputs (files, directories, globs, `-`) and yields one record per page in input order
 * as each page finishes. Failed inputs and pages yield records with `error` and the run goes on.
 */
export async function* scan(inputs: string[], options: ScanOptions = {}): AsyncGenerator<PageRecord> {
  const cwd = options.cwd ?? process.cwd();
  for (const plugin of options.plugins ?? []) await loadPlugin(plugin, cwd);
  const engineOptions = options.engineOptions ?? {};
  const emit = options.onEvent ?? (() => {});

  let factory: EngineFactory | undefined;
  if (typeof options.engine !== "object") {
    const resolved = await resolveEngine(options.engine ?? "auto", engineOptions);
    if (resolved.note) emit({ type: "note", message: resolved.note });
    factory = resolved.factory;
  }
  const prompt = options.prompt ? await loadTemplate(options, factory, emit) : undefined;
  const pdfText = effectivePdfText(options.pdfText, prompt);

  const { items } = await resolveInputs(inputs, { cwd, stdin: options.stdin });
  emit({ type: "inputs", names: items.map((item) => item.name) });
  const pending: InputItem[] = [];
  for (const item of items) {
    if (options.shard && !inShard(item, options.shard, cwd)) continue;
    if (!("error" in item) && options.skip && (await options.skip(item))) {
      emit({ type: "skipped", source: item.name });
      continue;
    }
    pending.push(item);
  }

  if (!pending.some((item) => !("error" in item))) {
    // Nothing readable: no reason to load a model just to report the failures.
    const info: EngineInfo = typeof options.engine === "object" ? options.engine.info : { engine: factory?.name ?? "", model: "" };
    for (const item of pending) if ("error" in item) yield failedRecord(item.name, 0, 0, info, item.error.toRecord());
    return;
  }

  // The engine is loaded when the first page that is not in the cache needs it: a re-run of a
  // finished batch never loads a model.
  const engine: PipelineEngine = typeof options.engine === "object" ? options.engine : new LazyEngine(factory!, engineOptions, emit);
  const dpi = options.dpi ?? DEFAULT_DPI;
  let cache: PageCache | undefined;
  if (options.cache) {
    const { openPageCache, ResultCache } = await import("./cache/index.js");
    const dir = typeof options.cache === "string" ? path.resolve(cwd, options.cache) : undefined;
    if (factory) {
      cache = await openPageCache({ dir, factory, engineOptions, promptText: prompt?.text, dpi, maxPixels: DEFAULT_MAX_PIXELS, pdfText });
    } else {
      // An engine object the caller loaded: it is known by what it says it is.
      const { contextDigest } = await import("./cache/key.js");
      const { info } = engine;
      const identity = { engine: info.engine, model: info.model, revision: info.revision, dtype: info.dtype, device: info.device };
      const { resultsDir } = await import("./cache/store.js");
      cache = { store: new ResultCache(dir ?? resultsDir()), context: contextDigest({ engine: identity, prompt: prompt?.text, dpi, maxPixels: DEFAULT_MAX_PIXELS, pdfText }) };
    }
  }
  try {
    yield* runPipeline(pending, {
      engine,
      cache,
      concurrency: options.concurrency,
      dpi: options.dpi,
      pdfText,
      pages: options.pages,
      pageTimeoutMs: options.pageTimeoutMs,
      signal: options.signal,
      prompt,
      languages: options.languages === false ? false : (options.languages ?? {}),
      onEvent: emit,
    });
  } finally {
    if (engine !== options.engine) await engine.close();
  }
}

/**
 * An engine loaded on first use. Until then it describes itself by its factory's name; a load
 * failure is marked fatal, so that the pipeline ends the run with it instead of failing a page.
 */
class LazyEngine implements PipelineEngine {
  private loading: Promise<Engine> | undefined;
  private engine: Engine | undefined;

  constructor(
    private readonly factory: EngineFactory,
    private readonly options: EngineOptions,
    private readonly emit: (event: ApiEvent) => void,
  ) {}

  get info(): EngineInfo {
    return this.engine?.info ?? { engine: this.factory.name, model: "" };
  }

  get loadMs(): number {
    return this.engine?.loadMs ?? 0;
  }

  get maxConcurrency(): number | undefined {
    return this.engine?.maxConcurrency;
  }

  ready(): Promise<Engine> {
    this.loading ??= (async () => {
      this.emit({ type: "engine-loading", engine: this.factory.name });
      try {
        this.engine = await this.factory.load(this.options);
      } catch (err) {
        if (typeof err === "object" && err !== null) Object.defineProperty(err, "fatal", { value: true });
        throw err;
      }
      this.emit({ type: "engine-ready", info: this.engine.info, loadMs: this.engine.loadMs });
      return this.engine;
    })();
    return this.loading;
  }

  async recognize(page: Page, options?: RecognizeOptions) {
    return (await this.ready()).recognize(page, options);
  }

  async close(): Promise<void> {
    const engine = await this.loading?.catch(() => undefined);
    await engine?.close();
  }
}

/**
 * Loads the template and checks the engine can follow it: a template made for generative engines
 * (fields as JSON, Markdown tables) is refused for an engine that only reads text, rather than
 * quietly returning something else.
 */
async function loadTemplate(options: ScanOptions, factory: EngineFactory | undefined, emit: (e: ApiEvent) => void): Promise<TemplatePrompt> {
  const { loadPrompt } = await import("./prompts/index.js");
  const loaded = await loadPrompt(options.prompt!, { vars: options.vars, langHint: options.langHint });
  for (const warning of loaded.warnings) emit({ type: "note", message: warning });
  if (factory && !factory.generative && loaded.engines.length && !loaded.engines.includes(factory.name)) {
    const what = loaded.output === "json" ? "extracts fields as JSON" : `writes ${loaded.output}`;
    throw new UsageError(
      `prompt '${loaded.name}' ${what} and needs a vision-language engine (${loaded.engines.join(", ")}); ` +
        `${factory.name} only reads the text. Use --engine qwen (fetch the model with \`qwen-ocr models pull\`).`,
    );
  }
  return { name: loaded.name, text: loaded.text, output: loaded.output, schema: loaded.schema, groupBy: loaded.groupBy };
}
