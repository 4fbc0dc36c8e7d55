/** Lines grouped by language, in the order each language first appears on the page. */
import type { LineLanguage } from "./detect.js";
import type { LanguageGroup } from "../types.js";
import { languageDirection, languageName, languageScript, type Direction, type LangNameStyle } from "./names.js";

export type { LanguageGroup };

export interface GroupOptions {
  /** How groups are named; default `native`. */
  names?: LangNameStyle;
}

/**
 * Groups lines by their detected language. Lines without letters (`und`: prices, dates, numbers)
 * stay with the block they sit in: the group of the line before them, or of the first line with
 * letters when they open the page. Blank lines are left out.
 */
export function groupLines(lines: readonly string[], languages: readonly LineLanguage[], options: GroupOptions = {}): LanguageGroup[] {
  const groups = new Map<string, { group: LanguageGroup; parts: string[] }>();
  let current: { group: LanguageGroup; parts: string[] } | undefined;
  const pending: Array<{ index: number; text: string }> = [];

  const add = (entry: { group: LanguageGroup; parts: string[] }, index: number, text: string) => {
    entry.parts.push(text);
    if (entry.group.lines[entry.group.lines.length - 1] !== index) entry.group.lines.push(index);
  };

  lines.forEach((line, index) => {
    if (!line.trim()) return;
    const detected = languages[index];
    const pieces = detected.segments ?? [{ text: line, lang: detected.lang }];
    for (const piece of pieces) {
      if (piece.lang === "und") {
        if (current) add(current, index, piece.text);
        else pending.push({ index, text: piece.text });
        continue;
      }
      let entry = groups.get(piece.lang);
      if (!entry) {
        entry = { group: newGroup(piece.lang, options), parts: [] };
        groups.set(piece.lang, entry);
      }
      if (!current) for (const p of pending.splice(0)) add(entry, p.index, p.text);
      current = entry;
      add(entry, index, piece.text);
    }
  });

  if (pending.length) {
    const entry = { group: newGroup("und", options), parts: [] as string[] };
    for (const p of pending) add(entry, p.index, p.text);
    groups.set("und", entry);
  }
  return [...groups.values()].map(({ group, parts }) => ({ ...group, text: parts.join("\n") }));
}

function newGroup(lang: string, options: GroupOptions): LanguageGroup {
  return {
    lang,
    name: languageName(lang, options.names ?? "native"),
    script: languageScript(lang),
    dir: languageDirection(lang),
    text: "",
    lines: [],
  };
}
