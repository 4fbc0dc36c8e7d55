/**
 * A request's OCR options, from query parameters and multipart fields (fields win), checked the
 * way the CLI checks its flags. Nothing here may name a file: templates are built-in names only.
 */
import { FORMATS, type Format } from "../output/format.js";
import { parsePageSelection, type PageSelection } from "../pages/index.js";
import { PDF_TEXT_MODES, type PdfTextMode } from "../pages/text-layer.js";

export class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "RequestError";
  }
}

export const badRequest = (message: string) => new RequestError(400, "bad_request", message);

export interface RequestOptions {
  engine?: string;
  prompt?: string;
  /** A free-form instruction for generative engines, instead of a template. */
  promptText?: string;
  vars: Record<string, string>;
  pages?: PageSelection;
  format?: Format;
  groupBy?: "language" | "none";
  lang?: string[];
  langNames: "native" | "english";
  dpi?: number;
  /** PDF pages' own text layer: `auto` (scan's default), `ocr` or `text`. */
  pdfText?: PdfTextMode;
  /** For a raw body: the name to show as the record's source. */
  filename?: string;
}

/** The option names a request may carry, as query parameters or multipart fields. */
export const OPTION_NAMES = ["engine", "prompt", "template", "prompt_text", "var", "pages", "format", "group_by", "lang", "lang_names", "dpi", "pdf_text", "filename"] as const;

const WORD = /^[\w.-]{1,64}$/;
const MAX_PROMPT_TEXT = 8000;

/** Raw values by option name; a repeated option has several. */
export type RawOptions = Map<string, string[]>;

export function addRaw(raw: RawOptions, name: string, value: unknown): void {
  const values = Array.isArray(value) ? value : [value];
  for (const v of values) {
    if (typeof v !== "string") throw badRequest(`option '${name}' must be text`);
    raw.set(name, [...(raw.get(name) ?? []), v]);
  }
}

export function parseOptions(raw: RawOptions): RequestOptions {
  for (const name of raw.keys()) {
    if (!(OPTION_NAMES as readonly string[]).includes(name)) {
      throw badRequest(`unknown option '${name}' (known: file, ${OPTION_NAMES.join(", ")})`);
    }
  }
  const one = (name: string): string | undefined => {
    const values = raw.get(name);
    if (!values?.length) return undefined;
    if (values.length > 1) throw badRequest(`option '${name}' was given ${values.length} times`);
    return values[0].trim() === "" ? undefined : values[0];
  };
  const choice = <T extends string>(name: string, choices: readonly T[]): T | undefined => {
    const value = one(name);
    if (value === undefined) return undefined;
    if (!(choices as readonly string[]).includes(value)) throw badRequest(`option '${name}' must be one of ${choices.join(", ")}, got '${value}'`);
    return value as T;
  };

  const engine = one("engine");
  if (engine !== undefined && !WORD.test(engine)) throw badRequest(`option 'engine' must be an engine name, got '${engine}'`);

  if (raw.get("prompt")?.length && raw.get("template")?.length) throw badRequest("give 'prompt' or 'template', not both");
  const prompt = one("prompt") ?? one("template");
  if (prompt !== undefined && (!WORD.test(prompt) || /\.md$/i.test(prompt))) {
    throw badRequest(`option 'prompt' must name a built-in template (see GET /v1/templates), got '${prompt}'`);
  }
  const promptText = one("prompt_text");
  if (promptText !== undefined && promptText.length > MAX_PROMPT_TEXT) throw badRequest(`option 'prompt_text' is longer than ${MAX_PROMPT_TEXT} characters`);
  if (promptText !== undefined && prompt !== undefined) throw badRequest("give 'prompt' or 'prompt_text', not both");

  const vars: Record<string, string> = {};
  for (const spec of raw.get("var") ?? []) {
    const eq = spec.indexOf("=");
    const key = spec.slice(0, eq);
    if (eq <= 0 || !/^[A-Za-z_][\w-]{0,63}$/.test(key)) throw badRequest(`option 'var' expects key=value, got '${spec.slice(0, 80)}'`);
    if (spec.length - eq - 1 > 2000) throw badRequest(`option 'var': the value of '${key}' is longer than 2000 characters`);
    vars[key] = spec.slice(eq + 1);
  }

  let pages: PageSelection | undefined;
  const pageSpec = one("pages");
  if (pageSpec !== undefined) {
    if (pageSpec.length > 200) throw badRequest("option 'pages' is too long");
    try {
      pages = parsePageSelection(pageSpec);
    } catch (err) {
      throw badRequest((err as Error).message);
    }
  }

  const lang = one("lang");
  if (lang !== undefined && !/^[\p{L}\p{N}_-]{1,40}(?:[,\s]+[\p{L}\p{N}_-]{1,40}){0,15}[,\s]*$/u.test(lang)) {
    throw badRequest(`option 'lang' expects language codes such as 'ja,en', got '${lang.slice(0, 80)}'`);
  }

  let dpi: number | undefined;
  const dpiSpec = one("dpi");
  if (dpiSpec !== undefined) {
    dpi = Number(dpiSpec);
    if (!Number.isInteger(dpi) || dpi < 36 || dpi > 600) throw badRequest(`option 'dpi' must be a whole number from 36 to 600, got '${dpiSpec}'`);
  }

  return {
    engine,
    prompt,
    promptText,
    vars,
    pages,
    format: choice("format", FORMATS),
    groupBy: choice("group_by", ["language", "none"] as const),
    lang: lang?.split(/[,\s]+/).filter(Boolean),
    langNames: choice("lang_names", ["native", "english"] as const) ?? "native",
    dpi,
    pdfText: choice("pdf_text", PDF_TEXT_MODES),
    filename: one("filename"),
  };
}

/**
 * The client's file name as it may be shown: the last path segment, without control characters
 * or bidirectional overrides, at most 200 characters; `upload` when nothing is left.
 * It is only ever displayed (the record's `source`), never used as a path.
 */
export function displayName(name: string | undefined): string {
  if (!name) return "upload";
  const base = name.split(/[\\/]/).pop() ?? "";
  // Control characters, line breaks and bidirectional overrides/isolates go (they could disguise the name); joiners stay (Persian, emoji).
  const clean = base.replace(/[\p{Cc}\p{Zl}\p{Zp}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/gu, "").replace(/\s+/g, " ").trim();
  if (!clean || clean === "." || clean === "..") return "upload";
  return [...clean].slice(0, 200).join("");
}
