import { toDocument } from "./document.js";
import { renderRecordByLanguage } from "../language/render.js";
import type { LangNameStyle } from "../language/names.js";
import type { PageRecord } from "../types.js";

export const FORMATS = ["text", "markdown", "json", "jsonl"] as const;
export type Format = (typeof FORMATS)[number];

export const EXTENSIONS: Record<Format, string> = { text: ".txt", markdown: ".md", json: ".json", jsonl: ".jsonl" };

/**
 * Turns the stream of page records (in input order, one source after another) into the text of
 * one output. Each call returns the bytes that can be written now, so results stream as pages
 * finish; `end()` returns what closes the output.
 */
export interface Formatter {
  record(record: PageRecord): string;
  end(): string;
  /** Text of a page still being generated, for formats that can show it as it comes. */
  delta?(source: string, page: number, text: string): string;
}

export interface FormatterOptions {
  /** More than one input goes into this output: text output then names each one. */
  multiple: boolean;
  /** Text and Markdown: each page's text in one section per language (records need `languages`). */
  groupBy?: "language";
  /** How language sections are named: `中文 (Chinese)` (native) or `Chinese` (english). */
  langNames?: LangNameStyle;
}

/** A page's text as the text and Markdown formats show it. */
function pageText(record: PageRecord, format: "text" | "markdown", options: FormatterOptions): string {
  if (options.groupBy !== "language") return record.text;
  return renderRecordByLanguage(record, format, { names: options.langNames, headingLevel: 3 });
}

export function createFormatter(format: Format, options: FormatterOptions): Formatter {
  switch (format) {
    case "jsonl":
      return { record: (r) => `${JSON.stringify(r)}\n`, end: () => "" };
    case "json":
      return new JsonFormatter();
    case "text":
      return new TextFormatter(options);
    case "markdown":
      return new MarkdownFormatter(options);
  }
}

/**
 * Plain text. Generative engines stream their text (`delta`) before the page's record arrives; the
 * record then adds only what the stream did not already show.
 */
class TextFormatter implements Formatter {
  private current: string | undefined;
  private sources = 0;
  private pagesInSource = 0;
  private streamed: { source: string; page: number; text: string } | undefined;

  constructor(private readonly options: FormatterOptions) {}

  delta(source: string, page: number, text: string): string {
    // Grouped pages are shown once their sections are known.
    if (this.options.groupBy) return "";
    let out = this.beginSource(source);
    if (!this.streamed || this.streamed.source !== source || this.streamed.page !== page) {
      out += this.beginPage();
      this.streamed = { source, page, text: "" };
    }
    this.streamed.text += text;
    return out + text;
  }

  record(record: PageRecord): string {
    const out = this.beginSource(record.source);
    const streamed = this.streamed;
    if (streamed && streamed.source === record.source && streamed.page === record.page) {
      this.streamed = undefined;
      const rest = !record.error && record.text.startsWith(streamed.text) ? record.text.slice(streamed.text.length) : "";
      const shown = streamed.text + rest;
      return out + rest + (shown && !shown.endsWith("\n") ? "\n" : "");
    }
    if (record.error) return out;
    const separator = this.beginPage();
    const text = pageText(record, "text", this.options);
    return out + (text ? `${separator}${text}\n` : separator);
  }

  end(): string {
    return "";
  }

  private beginSource(source: string): string {
    if (source === this.current) return "";
    this.current = source;
    this.pagesInSource = 0;
    // The same framing as head(1) and tail(1) when several inputs share one output.
    const header = this.options.multiple ? `${this.sources > 0 ? "\n" : ""}==> ${source} <==\n` : "";
    this.sources++;
    return header;
  }

  private beginPage(): string {
    return this.pagesInSource++ > 0 ? "\n" : "";
  }
}

class MarkdownFormatter implements Formatter {
  private current: string | undefined;
  private sources = 0;

  constructor(private readonly options: FormatterOptions) {}

  record(record: PageRecord): string {
    if (record.source === this.current) return this.page(record);
    this.current = record.source;
    const heading = `${this.sources++ > 0 ? "\n" : ""}# ${escapeHeading(record.source)}\n`;
    return heading + this.page(record);
  }

  end(): string {
    return "";
  }

  private page(record: PageRecord): string {
    if (record.page === 0) {
      return `\n> **Error** (${record.error?.code}): ${record.error?.message}\n`;
    }
    const heading = `\n## Page ${record.page}${record.pages ? ` of ${record.pages}` : ""}\n\n`;
    if (record.error) return `${heading}> **Error** (${record.error.code}): ${record.error.message}\n`;
    const text = pageText(record, "markdown", this.options);
    return `${heading}${text ? `${text}\n` : "_(no text found)_\n"}`;
  }
}

/** One JSON array of documents; a document is written once all its pages are in. */
class JsonFormatter implements Formatter {
  private pending: PageRecord[] = [];
  private written = 0;

  record(record: PageRecord): string {
    const out = this.pending.length && this.pending[0].source !== record.source ? this.flush() : "";
    this.pending.push(record);
    return out;
  }

  end(): string {
    const out = this.flush();
    return this.written === 0 ? "[]\n" : `${out}\n]\n`;
  }

  private flush(): string {
    if (!this.pending.length) return "";
    const doc = JSON.stringify(toDocument(this.pending), null, 2);
    this.pending = [];
    return `${this.written++ === 0 ? "[\n" : ",\n"}${indent(doc)}`;
  }
}

function indent(text: string): string {
  return text.replace(/^/gm, "  ");
}

function escapeHeading(text: string): string {
  return text.replace(/([\\`*_#[\]])/g, "\\$1");
}
