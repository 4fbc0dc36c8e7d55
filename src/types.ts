/**
 * The contract between the pipeline stages: what a page is, what an engine must do with it, and
 * the record every output format is written from. `schema/page.schema.json` is generated from
 * `PageRecord` and `DocumentRecord` below (`npm run schema`); a test fails when the two drift.
 */

/** An axis-aligned box in page pixels: [left, top, right, bottom]. */
export type BBox = [number, number, number, number];

/** Why an engine stopped producing text for a page. */
export type Finish =
  /** The engine finished on its own (the only value for detector/recogniser engines). */
  | "stop"
  /** A token budget cut the text short. */
  | "length"
  /** A repetition loop was detected and generation was stopped. */
  | "loop";

/** A decoded page bitmap: 8-bit RGB, row-major, no padding (`data.length === width * height * 3`). */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** One page as it leaves the `pages/` stage. */
export interface Page {
  /** The input as the user named it (`-` for stdin). */
  source: string;
  /** 1-based page number within the source. */
  page: number;
  /** Pages in the source, once known. */
  pages: number;
  image: RgbImage;
  /** Resolution the page was rasterized at (PDF pages), or the image's own when it declares one. */
  dpi?: number;
  /** Time spent decoding / rasterizing this page, in milliseconds. */
  rasterizeMs: number;
  /** Non-fatal observations made while rasterizing (e.g. the pixel cap lowered the DPI). */
  warnings: string[];
  /**
   * A PDF page whose own text is used instead of OCR (`--pdf-text auto|text`). Such a page is not
   * rasterized: `image` is an empty 0 × 0 bitmap, and no engine is given the page.
   */
  textLayer?: TextLayer;
}

/** A PDF page's text as the PDF itself holds it, in reading order. */
export interface TextLayer {
  /** The lines joined with newlines. */
  text: string;
  /** Lines with boxes in pixels of the page as it would have been rasterized at its `dpi`. */
  lines: Line[];
  /** The page's size in pixels at its `dpi`: the space of the lines' boxes. */
  width: number;
  height: number;
}

/** One recognised line of text. */
export interface Line {
  text: string;
  /** Where the line is on the page, when the engine knows. */
  bbox?: BBox;
  /** Mean recognition confidence in [0, 1], when the engine reports one. */
  confidence?: number;
  /** BCP-47 language of the line (`und` when it has no letters), set by the language stage. */
  lang?: string;
  /** Set to `rtl` on right-to-left lines (Arabic, Hebrew, …); their text stays in logical order. */
  dir?: "ltr" | "rtl";
}

/** One language's share of a page, in the order languages first appear. */
export interface LanguageGroup {
  /** BCP-47 tag (`zh-Hans`, `en`, `ar`, …); `und` only when no line of the page has letters. */
  lang: string;
  /** Heading name: "中文 (Chinese)" style, or the English name alone (`--lang-names english`). */
  name: string;
  /** ISO 15924 code of the language's script (`Hans`, `Jpan`, `Latn`, `Arab`, …). */
  script: string;
  dir: "ltr" | "rtl";
  /** The group's lines in reading order, joined with newlines; right-to-left text in logical order. */
  text: string;
  /** 0-based indices into the record's `lines` (a bilingual line split at a separator is in each of its languages). */
  lines: number[];
}

/** What an engine returns for one page. */
export interface EngineResult {
  text: string;
  lines: Line[];
  finish: Finish;
  /** Engine stage timings in milliseconds (e.g. detectMs, recognizeMs, prefillMs, decodeMs). */
  timings: Record<string, number>;
  warnings: string[];
  /** Clockwise rotation in degrees (0, 90, 180, 270) the engine applied to read the page upright. */
  rotation?: number;
  /** Token counts, for generative engines. */
  tokens?: { input: number; output: number };
  /** Generation parameters actually used (e.g. max_new_tokens, do_sample), for generative engines. */
  generation?: Record<string, number | boolean | string>;
}

/** The instruction a generative engine follows for a page (a template from `prompts/`, rendered). */
export interface Prompt {
  /** Template name, or the file it came from. */
  name: string;
  /** The rendered instruction text. */
  text: string;
}

/** Options for one `recognize` call. */
export interface RecognizeOptions {
  /** For generative engines; detector/recogniser engines ignore it. */
  prompt?: Prompt;
  /** Aborted when the page times out or the run is interrupted; engines should stop early when they can. */
  signal?: AbortSignal;
  /** Generative engines call this with each new piece of text as it is produced. */
  onText?: (delta: string) => void;
}

/** Identity of the engine and model that produced a result; copied into every record. */
export interface EngineInfo {
  /** Registry name, e.g. "ppocr" or "qwen". */
  engine: string;
  /** Model identifier, e.g. "PP-OCRv4 (ch)" or "onnx-community/Qwen3-VL-2B-Instruct-ONNX". */
  model: string;
  revision?: string;
  dtype?: string;
  device?: string;
}

/** A loaded engine. One instance recognises pages one at a time, unless it sets `maxConcurrency`. */
export interface Engine {
  readonly info: EngineInfo;
  /** Time spent loading models, in milliseconds. */
  readonly loadMs: number;
  recognize(page: Page, options?: RecognizeOptions): Promise<EngineResult>;
  /** How many `recognize` calls may run at once (e.g. an engine that sends pages to a server); default 1. */
  readonly maxConcurrency?: number;
  /** Releases native resources. Safe to call more than once. */
  close(): Promise<void>;
}

/** Options every engine factory receives; engines ignore what does not concern them. */
export interface EngineOptions {
  /** ONNX Runtime intra-op threads; defaults to the number of CPU cores. */
  threads?: number;
  /** Where an engine's model lives, or which model to use (engine specific). */
  model?: string;
  /** Engine-specific settings, passed through from the caller. */
  [key: string]: unknown;
}

/** Whether an engine can run here, and what to do if not. */
export interface Availability {
  ok: boolean;
  /** Why it cannot run, and the command that fixes it. */
  reason?: string;
}

/** An engine as the registry knows it, before it is loaded. */
export interface EngineFactory {
  name: string;
  description: string;
  /** Follows a prompt (a vision-language model); detector/recogniser engines only read text. */
  generative?: boolean;
  /** Cheap check (no model loading, no network) used by `--engine auto` and `doctor`. */
  available(options: EngineOptions): Promise<Availability>;
  load(options: EngineOptions): Promise<Engine>;
  /**
   * What decides this engine's output for a page, known without loading it (model id and
   * revision, dtype, device, generation parameters, settings). Part of the result cache's key;
   * return `null` for results that must never be cached. Engines without it are keyed by their
   * name, their scalar options and qwen-ocr's version.
   */
  cacheIdentity?(options: EngineOptions): Promise<Record<string, unknown> | null>;
}

/** Stable machine-readable error codes, carried by error records and printed in messages. */
export type ErrorCode =
  | "not_found"
  | "unreadable"
  | "empty"
  | "unsupported"
  | "corrupt"
  | "encrypted"
  | "render_failed"
  | "too_large"
  | "engine_failed"
  | "invalid_output"
  | "timeout";

export interface RecordError {
  code: ErrorCode;
  message: string;
}

/** Per-page timings in milliseconds: the pipeline's own plus the engine's stages. */
export interface Timings {
  rasterizeMs: number;
  inferMs: number;
  totalMs: number;
  [stage: string]: number;
}

/**
 * One page's result: a JSONL line, or one entry of a document's `records`.
 * An input that fails before any page could be read gives one record with `page: 0` and `error`.
 */
export interface PageRecord {
  /** The input as the user named it (`-` for stdin). */
  source: string;
  /** 1-based page number; 0 when the whole input failed before a page could be read. */
  page: number;
  /** Pages in the source; 0 when unknown because the input could not be opened. */
  pages: number;
  engine: string;
  model: string;
  revision?: string;
  dtype?: string;
  device?: string;
  /** Name of the prompt template, for generative engines. */
  prompt?: string;
  generation?: Record<string, number | boolean | string>;
  /** Page size in pixels as recognised. */
  width?: number;
  height?: number;
  text: string;
  lines: Line[];
  /** The page's lines grouped by language (JSON formats, and `--group-by language`). */
  languages?: LanguageGroup[];
  /** Structured templates (invoice, receipt, …): the model's answer parsed and validated against the template's schema. */
  data?: unknown;
  finish?: Finish;
  rotation?: number;
  tokens?: { input: number; output: number };
  timings: Timings;
  warnings: string[];
  /** Set when the engine's result came from the result cache (the engine did not run for this page). */
  cached?: boolean;
  /** Where the text came from: the PDF page's own text layer (no engine ran), or OCR by the engine. Absent on error records. */
  origin?: "text-layer" | "ocr";
  error?: RecordError;
}

/** The JSON format: one document per input, wrapping its page records. */
export interface DocumentRecord {
  source: string;
  pages: number;
  engine: string;
  model: string;
  /** The pages' text joined with blank lines, in page order. */
  text: string;
  records: PageRecord[];
  /** Set when the input, or any of its pages, failed. */
  error?: RecordError;
}

/** Machine-readable exit codes of the CLI. */
export enum ExitCode {
  Ok = 0,
  /** At least one input or page failed; every other input was still written. */
  InputFailed = 1,
  /** Bad command line. */
  Usage = 2,
  /** The requested model is not installed. */
  ModelMissing = 3,
  /** A bug in qwen-ocr itself (sysexits' EX_SOFTWARE); please report it. */
  Internal = 70,
  /** Interrupted by SIGINT after flushing finished pages. */
  Interrupted = 130,
  /** The reader of stdout went away (`| head`): work stops and the exit is quiet, as for a process killed by SIGPIPE. */
  BrokenPipe = 141,
}
