/**
 * `--group-by language` for the text and Markdown formats: a page's text as one section per
 * language, each headed by the language's name. Pure functions of an annotated record.
 */
import type { LanguageGroup } from "./group.js";
import { languageName, type LangNameStyle } from "./names.js";

export interface RenderOptions {
  /** Rename the groups' headings in this style; by default the names the groups carry. */
  names?: LangNameStyle;
  /** Markdown heading level of a section (1–6); default 2: `## 中文 (Chinese)`. */
  headingLevel?: number;
  /** Markdown: write each line as a list item (`- line`) instead of as it is. */
  list?: boolean;
}

/** What rendering needs of a record: `PageRecord` with `languages` fits. */
export interface GroupedRecord {
  text: string;
  languages?: readonly LanguageGroup[];
}

export function groupHeading(group: LanguageGroup, options: RenderOptions = {}): string {
  return options.names ? languageName(group.lang, options.names) : group.name;
}

/**
 * Plain text: each section opens with the name in brackets, sections apart by a blank line.
 *
 *     [中文 (Chinese)]
 *     宫保鸡丁 ¥38
 *
 *     [English]
 *     Kung Pao Chicken $5.2
 */
export function renderGroupsText(groups: readonly LanguageGroup[], options: RenderOptions = {}): string {
  return groups.map((g) => `[${groupHeading(g, options)}]\n${g.text}`).join("\n\n");
}

/**
 * Markdown: a heading per language (`## 中文 (Chinese)`), then its lines. Right-to-left sections
 * are wrapped in `<div dir="rtl">` so renderers align them; the text stays in logical order.
 */
export function renderGroupsMarkdown(groups: readonly LanguageGroup[], options: RenderOptions = {}): string {
  const level = Math.min(6, Math.max(1, Math.trunc(options.headingLevel ?? 2)));
  const hashes = "#".repeat(level);
  return groups
    .map((g) => {
      const lines = g.text.split("\n");
      const body = options.list ? lines.map((l) => `- ${l}`).join("\n") : lines.join("\n");
      const content = g.dir === "rtl" ? `<div dir="rtl">\n\n${body}\n\n</div>` : body;
      return `${hashes} ${escapeHeading(groupHeading(g, options))}\n\n${content}`;
    })
    .join("\n\n");
}

/** A record's text by language in the given format; the plain text when it has no groups. */
export function renderRecordByLanguage(record: GroupedRecord, format: "text" | "markdown", options: RenderOptions = {}): string {
  if (!record.languages?.length) return record.text;
  return format === "markdown" ? renderGroupsMarkdown(record.languages, options) : renderGroupsText(record.languages, options);
}

function escapeHeading(text: string): string {
  return text.replace(/([\\`*_#[\]])/g, "\\$1");
}
