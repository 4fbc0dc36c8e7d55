import { toDocument } from "./document.js";
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
}

export interface FormatterOptions {
  /** More than one input goes into this output: text output then names each one. */
  multiple: boolean;
}

export function createFormatter(format: Format, options: FormatterOptions): Formatter {
  switch (format) {
    case "jsonl":
      return { record: (r) => `${JSON.stringify(r)}\n`, end: () => "" };
    case "json":
      return new JsonFormatter();
    case "text":
      return new TextFormatter(options.multiple);
    case "markdown":
      return new MarkdownFormatter();
  }
}

/** Tracks when the source changes, so per-document framing can be written. */
abstract class PerSource implements Formatter {
  private current: string | undefined;
  protected count = 0;

  record(record: PageRecord): string {
    let out = "";
    if (record.source !== this.current) {
      this.current = record.source;
      out += this.startSource(record);
      this.count++;
    }
    return out + this.page(record);
  }

  end(): string {
    return "";
  }

  protected abstract startSource(record: PageRecord): string;
  protected abstract page(record: PageRecord): string;
}

class TextFormatter extends PerSource {
  private pagesInSource = 0;

  constructor(private readonly multiple: boolean) {
    super();
  }

  protected startSource(record: PageRecord): string {
    this.pagesInSource = 0;
    // The same framing as head(1) and tail(1) when several inputs share one output.
    if (!this.multiple) return "";
    return `${this.count > 0 ? "\n" : ""}==> ${record.source} <==\n`;
  }

  protected page(record: PageRecord): string {
    if (record.error) return "";
    const separator = this.pagesInSource++ > 0 ? "\n" : "";
    return record.text ? `${separator}${record.text}\n` : separator;
  }
}

class MarkdownFormatter extends PerSource {
  protected startSource(record: PageRecord): string {
    return `${this.count > 0 ? "\n" : ""}# ${escapeHeading(record.source)}\n`;
  }

  protected page(record: PageRecord): string {
    if (record.page === 0) {
      return `\n> **Error** (${record.error?.code}): ${record.error?.message}\n`;
    }
    const heading = `\n## Page ${record.page}${record.pages ? ` of ${record.pages}` : ""}\n\n`;
    if (record.error) return `${heading}> **Error** (${record.error.code}): ${record.error.message}\n`;
    return `${heading}${record.text ? `${record.text}\n` : "_(no text found)_\n"}`;
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
