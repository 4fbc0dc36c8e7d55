/**
 * Reading a model's answer to the `grouped` template: the text sorted into one section per
 * language. Models head the sections in several ways, all accepted:
 *
 *     【中文】            ## Chinese / ### 中文 / **English**      Chinese: / 日文：      [English]
 *
 * and list the lines under them, with or without `- ` markers.
 */
import { compatibleVariants, hanEvidence } from "../language/han.js";
import type { LanguageGroup } from "../language/group.js";
import { languageDirection, languageFromName, languageName, languageScript, type LangNameStyle } from "../language/names.js";

export interface ParsedGroup {
  /** The heading as the model wrote it, without its markup: "中文", "English". */
  heading: string;
  /** BCP-47 tag the heading names (refined to zh-Hans / zh-Hant by the section's characters); `und` when unknown. */
  lang: string;
  /** The section's lines, list markers removed. */
  lines: string[];
  text: string;
}

// 【中文】, 〔中文〕, [English] — alone on a line, or with the section's first line after it.
const BRACKETED = /^\s*(?:【([^】]{1,40})】|〔([^〕]{1,40})〕|\[([^\]]{1,40})\])\s*[:：]?\s*(.*)$/u;
// ## Chinese, ### 中文 (Chinese)
const MD_HEADING = /^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$/u;
// **Chinese**, **中文：**, __English:__
const BOLD = /^\s*(?:\*\*|__)\s*(.{1,40}?)\s*[:：]?\s*(?:\*\*|__)\s*[:：]?\s*(.*)$/u;
// Chinese:, 日文：, English: Kung Pao Chicken
const LABEL = /^\s*([^\s:：][^:：]{0,30}?)\s*[:：]\s*(.*)$/u;
const LIST_MARKER = /^\s*(?:[-*•·・]|\d{1,3}[.)、])\s+/u;

/**
 * The sections of a grouped answer, in order; a language heading met twice adds to its first
 * section. Lines before the first heading (an introduction such as "以下是…：") are dropped.
 * An answer with no recognisable heading gives an empty list: group it by detection instead.
 */
export function parseGroupedAnswer(text: string): ParsedGroup[] {
  const groups: ParsedGroup[] = [];
  let current: ParsedGroup | undefined;
  const open = (heading: string, first: string) => {
    const cleaned = cleanHeading(heading);
    const lang = languageFromName(cleaned) ?? languageFromName(cleaned.replace(/\s*[(（].*$/u, "")) ?? "und";
    current = groups.find((g) => g.heading === cleaned || (lang !== "und" && g.lang === lang));
    if (!current) {
      current = { heading: cleaned, lang, lines: [], text: "" };
      groups.push(current);
    }
    if (first.trim()) addContent(current, first);
  };

  // Unmarked lines after a blank line that follow list items close the answer ("以上是…").
  let marked = 0;
  let unmarked = 0;
  let trailing: string[] = [];
  let blank = false;
  for (const raw of text.replace(/\r\n?/g, "\n").split("\n")) {
    const line = raw.trimEnd();
    if (!line.trim() || /^\s*(?:---+|\*\*\*+|```\w*)\s*$/.test(line)) {
      blank = true;
      continue;
    }
    const heading = matchHeading(line);
    if (heading) {
      for (const t of trailing) if (current) addContent(current, t);
      [trailing, marked, unmarked, blank] = [[], 0, 0, false];
      open(heading.name, heading.rest);
      continue;
    }
    if (!current) continue;
    const isItem = LIST_MARKER.test(line);
    if (trailing.length || (blank && !isItem && marked > 0 && unmarked === 0)) {
      trailing.push(line);
      if (isItem) {
        for (const t of trailing) addContent(current, t);
        trailing = [];
      }
    } else addContent(current, line);
    if (isItem) marked++;
    else if (!trailing.length) unmarked++;
    blank = false;
  }
  for (const g of groups) {
    g.lang = refineChinese(g.lang, g.lines.join("\n"));
    g.text = g.lines.join("\n");
  }
  return groups.filter((g) => g.lines.length);
}

function matchHeading(line: string): { name: string; rest: string } | undefined {
  const bracketed = BRACKETED.exec(line);
  if (bracketed) {
    const name = bracketed[1] ?? bracketed[2] ?? bracketed[3];
    // [English] only counts as a heading when it names a language; 【…】 always does.
    if (bracketed[1] || bracketed[2] || knownLanguage(name)) return { name, rest: bracketed[4] };
  }
  const md = MD_HEADING.exec(line);
  if (md) return { name: md[1], rest: "" };
  const bold = BOLD.exec(line);
  if (bold && knownLanguage(bold[1])) return { name: bold[1], rest: bold[2] };
  const label = LABEL.exec(line.replace(LIST_MARKER, ""));
  if (label && knownLanguage(label[1])) return { name: label[1], rest: label[2] };
  return undefined;
}

function knownLanguage(name: string): boolean {
  const cleaned = cleanHeading(name);
  return !!(languageFromName(cleaned) ?? languageFromName(cleaned.replace(/\s*[(（].*$/u, "")));
}

function cleanHeading(name: string): string {
  return name
    .replace(/[*_`]/g, "")
    .replace(/^[【\[〔]|[】\]〕]$/gu, "")
    .replace(/[:：]\s*$/u, "")
    .trim();
}

/** Adds a content line; "- a - b - c" written on one line (answers flattened by a chat UI) becomes three. */
function addContent(group: ParsedGroup, line: string): void {
  const trimmed = line.trim();
  const items = /^[-•]\s/u.test(trimmed) ? trimmed.split(/\s+[-•]\s+(?=\S)/u) : [trimmed];
  for (const item of items) {
    const content = item.replace(LIST_MARKER, "").trim();
    if (content) group.lines.push(content);
  }
}

/** "中文" says Chinese; its characters say Simplified or Traditional. */
function refineChinese(lang: string, text: string): string {
  if (lang !== "zh") return lang;
  const variants = compatibleVariants(hanEvidence(text)).filter((v) => v !== "ja");
  return variants.length === 1 ? variants[0] : lang;
}

export interface AnswerGroups {
  /** The answer's content lines, headings and list markers removed, in order. */
  lines: string[];
  /** One group per section; `lines` index the list above. */
  groups: LanguageGroup[];
}

/**
 * A grouped answer as a record's lines and language groups (what `annotate` gives a record whose
 * text was grouped by detection), or undefined when the answer has no language headings.
 */
export function groupsFromAnswer(text: string, options: { names?: LangNameStyle } = {}): AnswerGroups | undefined {
  const parsed = parseGroupedAnswer(text);
  if (!parsed.length) return undefined;
  const lines: string[] = [];
  const groups = parsed.map((g): LanguageGroup => {
    const indices = g.lines.map((line) => lines.push(line) - 1);
    return {
      lang: g.lang,
      name: g.lang === "und" ? g.heading : languageName(g.lang, options.names ?? "native"),
      script: languageScript(g.lang),
      dir: languageDirection(g.lang),
      text: g.text,
      lines: indices,
    };
  });
  return { lines, groups };
}
