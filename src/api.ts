import type { Readable } from "node:stream";
import { loadPlugin, resolveEngine } from "./engines/registry.js";
import { failedRecord, runPipeline, type InputItem, type ScanEvent } from "./pipeline.js";
import { resolveInputs } from "./inputs/index.js";
import type { PageSelection } from "./pages/index.js";
import { UsageError } from "./errors.js";
import type { LanguageStageOptions } from "./language/stage.js";
import type { TemplatePrompt } from "./pipeline.js";
import type { Engine, EngineFactory, EngineInfo, EngineOptions, PageRecord } from "./types.js";

export type ApiEvent =
  | ScanEvent
  | { type: "note"; message: string }
  | { type: "engine-loading"; engine: string }
  | { type: "engine-ready"; info: EngineInfo; loadMs: number };

export interface ScanOptions {
  /** An engine name (`auto`, `ppocr`, …) or an engine you loaded yourself (it is not closed). */
  engine?: string | Engine;
  engineOptions?: EngineOptions;
  /** Modules that register extra engines (see `registerEngine`). */
  plugins?: string[];
  /** PDF rasterization resolution; default 200. */
  dpi?: number;
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
  signal?: AbortSignal;
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

  const { items } = await resolveInputs(inputs, { cwd, stdin: options.stdin });
  const pending: InputItem[] = items;

  if (!items.some((item) => !("error" in item))) {
    // Nothing readable: no reason to load a model just to report the failures.
    const info: EngineInfo = typeof options.engine === "object" ? options.engine.info : { engine: factory?.name ?? "", model: "" };
    for (const item of pending) if ("error" in item) yield failedRecord(item.name, 0, 0, info, item.error.toRecord());
    return;
  }

  let engine: Engine;
  if (typeof options.engine === "object") {
    engine = options.engine;
  } else {
    emit({ type: "engine-loading", engine: factory!.name });
    engine = await factory!.load(engineOptions);
    emit({ type: "engine-ready", info: engine.info, loadMs: engine.loadMs });
  }
  try {
    yield* runPipeline(pending, {
      engine,
      dpi: options.dpi,
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
