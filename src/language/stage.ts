/**
 * The language stage of the pipeline: per-line `lang` and the page's `languages` groups. When the
 * prompt asked a model to sort its answer by language and it did, its own sections are the
 * groups; otherwise the detector judges the lines.
 */
import type { LanguageGroup, PageRecord } from "../types.js";
import type { LangNameStyle } from "./names.js";

export interface LanguageStageOptions {
  names?: LangNameStyle;
  /** The prompt asked the model for sections per language (the grouped template). */
  fromAnswer?: boolean;
}

export async function addLanguages(record: PageRecord, options: LanguageStageOptions = {}): Promise<PageRecord> {
  if (record.error) return record;
  if (options.fromAnswer) {
    const { groupsFromAnswer } = await import("../prompts/grouped.js");
    const found = groupsFromAnswer(record.text, { names: options.names });
    if (found) {
      const groupOf = new Map<number, LanguageGroup>();
      for (const group of found.groups) for (const i of group.lines) if (!groupOf.has(i)) groupOf.set(i, group);
      const lines = found.lines.map((text, i) => {
        const group = groupOf.get(i);
        return { text, lang: group?.lang ?? "und", ...(group?.dir === "rtl" ? { dir: "rtl" as const } : {}) };
      });
      return { ...record, lines, languages: found.groups };
    }
  }
  const { annotate } = await import("./index.js");
  return annotate(record, { names: options.names });
}
