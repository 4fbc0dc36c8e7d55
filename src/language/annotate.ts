/** Adds languages to a page record: `lang` (and `dir: "rtl"`) per line, and `languages` groups for the page. */
import type { LanguageDetector } from "./detect.js";
import { groupLines, type GroupOptions, type LanguageGroup } from "./group.js";
import type { Direction } from "./names.js";

/** What annotation needs of a record: `PageRecord` fits. */
export interface AnnotatableRecord {
  text: string;
  lines: ReadonlyArray<{ text: string }>;
  error?: unknown;
}

export type AnnotatedLine<L> = L & { lang: string; dir?: Direction };

export type Annotated<R extends AnnotatableRecord> = Omit<R, "lines"> & {
  lines: Array<AnnotatedLine<R["lines"][number]>>;
  languages: LanguageGroup[];
};

/**
 * A copy of the record with each line's `lang` (BCP-47, `und` without letters) and `dir: "rtl"`
 * on right-to-left lines, and `languages`: the page's lines grouped by language. Groups index
 * `record.lines`; when the engine gave no lines (a generative engine's free text), the page is
 * judged by the lines of `record.text`, which the groups' `lines` then index. Error records are
 * returned with `languages: []`.
 */
export function annotateWith<R extends AnnotatableRecord>(detector: LanguageDetector, record: R, options: GroupOptions = {}): Annotated<R> {
  const lines = record.lines.map((l) => ({ ...l })) as Array<AnnotatedLine<R["lines"][number]>>;
  if (record.error || (!record.text && !lines.length)) {
    return { ...record, lines: lines.map((l) => ({ ...l, lang: "und" })), languages: [] };
  }
  const texts = lines.length ? lines.map((l) => l.text) : record.text.split(/\r?\n/);
  const detected = detector.detectLines(texts);
  lines.forEach((line, i) => {
    line.lang = detected[i].lang;
    if (detected[i].dir === "rtl") line.dir = "rtl";
  });
  return { ...record, lines, languages: groupLines(texts, detected, options) };
}
