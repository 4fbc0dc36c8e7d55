/**
 * The `language/` stage: the language and script of each line, and a page's lines grouped by
 * language. Script and letter rules need nothing loaded; the n-gram detector they fall back on
 * (for which Latin, Cyrillic, Arabic or Devanagari language) is loaded on first use, so the
 * asynchronous functions below load it once; `loadLanguageDetector()` gives a synchronous one.
 */
import { annotateWith, type AnnotatableRecord, type Annotated } from "./annotate.js";
import { loadDefaultBackend } from "./backend.js";
import { LanguageDetector, type LineLanguage } from "./detect.js";
import { groupLines, type GroupOptions, type LanguageGroup } from "./group.js";

export { LanguageDetector, type Decision, type LanguageSegment, type LineLanguage } from "./detect.js";
export { groupLines, type GroupOptions, type LanguageGroup } from "./group.js";
export { annotateWith, type AnnotatableRecord, type Annotated, type AnnotatedLine } from "./annotate.js";
export {
  groupHeading,
  renderGroupsMarkdown,
  renderGroupsText,
  renderRecordByLanguage,
  type GroupedRecord,
  type RenderOptions,
} from "./render.js";
export {
  englishName,
  languageDirection,
  languageFromName,
  languageName,
  languageScript,
  LANG_NAME_STYLES,
  nativeName,
  primaryTag,
  type Direction,
  type LangNameStyle,
} from "./names.js";
export { scriptOf, scriptProfile, scriptRuns, type ScriptCode, type ScriptRun } from "./scripts.js";
export type { NgramBackend, Ranked } from "./backend.js";

let shared: Promise<LanguageDetector> | undefined;

/** The detector with the default n-gram backend, loaded once per process. */
export function loadLanguageDetector(): Promise<LanguageDetector> {
  shared ??= loadDefaultBackend().then(
    (backend) => new LanguageDetector(backend),
    (err: unknown) => {
      shared = undefined;
      throw err;
    },
  );
  return shared;
}

/**
 * The language of one line: `{ lang, script, confidence, dir, by }`. Lines from around it on the
 * page (`context.before`, `context.after`) let short and Han-only lines take their neighbours'
 * language; judge a whole page with `detectLanguages` instead, which is what the context does.
 */
export async function detectLanguage(line: string, context?: { before?: readonly string[]; after?: readonly string[] }): Promise<LineLanguage> {
  return (await loadLanguageDetector()).detect(line, context);
}

/** The language of every line of a page, each judged with the page around it. */
export async function detectLanguages(lines: readonly string[]): Promise<LineLanguage[]> {
  return (await loadLanguageDetector()).detectLines(lines);
}

/** A page's lines grouped by language in order of first appearance (see `groupLines`). */
export async function groupByLanguage(lines: ReadonlyArray<string | { text: string }>, options?: GroupOptions): Promise<LanguageGroup[]> {
  const texts = lines.map((l) => (typeof l === "string" ? l : l.text));
  return groupLines(texts, (await loadLanguageDetector()).detectLines(texts), options);
}

/** A copy of a page record with `lang` per line and `languages` for the page (see `annotateWith`). */
export async function annotate<R extends AnnotatableRecord>(record: R, options?: GroupOptions): Promise<Annotated<R>> {
  return annotateWith(await loadLanguageDetector(), record, options);
}
