import type { Readable } from "node:stream";
import { loadPlugin, resolveEngine } from "./engines/registry.js";
import { failedRecord, runPipeline, type InputItem, type ScanEvent } from "./pipeline.js";
import { resolveInputs } from "./inputs/index.js";
import type { PageSelection } from "./pages/index.js";
import type { Engine, EngineInfo, EngineOptions, PageRecord } from "./types.js";

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

  let factory;
  if (typeof options.engine !== "object") {
    const resolved = await resolveEngine(options.engine ?? "auto", engineOptions);
    if (resolved.note) emit({ type: "note", message: resolved.note });
    factory = resolved.factory;
  }

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
      onEvent: emit,
    });
  } finally {
    if (engine !== options.engine) await engine.close();
  }
}
