/**
 * Unicode scripts of a line: which writing systems its letters belong to, as ISO 15924 codes.
 * Only letters (and CJK ideographs) count; digits, punctuation and symbols are script-neutral.
 */

/** ISO 15924 codes of the scripts told apart here. `Zyyy` (common) marks text with no letters. */
export type ScriptCode =
  | "Latn" | "Cyrl" | "Grek" | "Armn" | "Geor" | "Hebr" | "Arab" | "Syrc" | "Thaa"
  | "Deva" | "Beng" | "Guru" | "Gujr" | "Orya" | "Taml" | "Telu" | "Knda" | "Mlym" | "Sinh"
  | "Thai" | "Laoo" | "Khmr" | "Mymr" | "Tibt" | "Ethi" | "Mong"
  | "Hani" | "Hira" | "Kana" | "Hang"
  | "Zyyy";

const SCRIPTS: ReadonlyArray<[ScriptCode, RegExp]> = [
  ["Latn", /\p{Script=Latin}/u],
  ["Hani", /\p{Script=Han}/u],
  ["Cyrl", /\p{Script=Cyrillic}/u],
  ["Arab", /\p{Script=Arabic}/u],
  ["Hira", /\p{Script=Hiragana}/u],
  ["Kana", /\p{Script=Katakana}/u],
  ["Hang", /\p{Script=Hangul}/u],
  ["Deva", /\p{Script=Devanagari}/u],
  ["Thai", /\p{Script=Thai}/u],
  ["Hebr", /\p{Script=Hebrew}/u],
  ["Grek", /\p{Script=Greek}/u],
  ["Beng", /\p{Script=Bengali}/u],
  ["Taml", /\p{Script=Tamil}/u],
  ["Telu", /\p{Script=Telugu}/u],
  ["Knda", /\p{Script=Kannada}/u],
  ["Mlym", /\p{Script=Malayalam}/u],
  ["Gujr", /\p{Script=Gujarati}/u],
  ["Guru", /\p{Script=Gurmukhi}/u],
  ["Orya", /\p{Script=Oriya}/u],
  ["Sinh", /\p{Script=Sinhala}/u],
  ["Armn", /\p{Script=Armenian}/u],
  ["Geor", /\p{Script=Georgian}/u],
  ["Laoo", /\p{Script=Lao}/u],
  ["Khmr", /\p{Script=Khmer}/u],
  ["Mymr", /\p{Script=Myanmar}/u],
  ["Tibt", /\p{Script=Tibetan}/u],
  ["Ethi", /\p{Script=Ethiopic}/u],
  ["Syrc", /\p{Script=Syriac}/u],
  ["Thaa", /\p{Script=Thaana}/u],
  ["Mong", /\p{Script=Mongolian}/u],
];

const LETTER = /[\p{L}\p{M}]/u;
const MARK = /\p{M}/u;
/** The katakana-hiragana prolonged sound mark and the middle dot are "Common" but only Japanese uses ー. */
const PROLONGED = 0x30fc;

/** The script of one code point, or `Zyyy` when it is not a letter of a known script. */
export function scriptOf(char: string): ScriptCode {
  const cp = char.codePointAt(0) ?? 0;
  if (cp < 0x80) return (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) ? "Latn" : "Zyyy";
  if (cp === PROLONGED) return "Kana";
  if (!LETTER.test(char)) return "Zyyy";
  for (const [code, re] of SCRIPTS) if (re.test(char)) return code;
  return "Zyyy";
}

/** A maximal run of one script; combining marks and neutral characters join the run they sit in. */
export interface ScriptRun {
  script: ScriptCode;
  text: string;
  /** Code-unit offset of the run in the line. */
  start: number;
}

/** Letters per script, in the order the scripts first appear. */
export interface ScriptProfile {
  counts: Map<ScriptCode, number>;
  /** All letters (marks excluded). */
  letters: number;
}

export function scriptProfile(text: string): ScriptProfile {
  const counts = new Map<ScriptCode, number>();
  let letters = 0;
  for (const char of text) {
    if (MARK.test(char)) continue;
    const script = scriptOf(char);
    if (script === "Zyyy") continue;
    counts.set(script, (counts.get(script) ?? 0) + 1);
    letters++;
  }
  return { counts, letters };
}

/**
 * Splits a line into runs of one script each. Neutral characters (spaces, digits, punctuation)
 * and combining marks stay in the run they follow; leading neutral characters join the first run.
 */
export function scriptRuns(text: string): ScriptRun[] {
  const runs: ScriptRun[] = [];
  let current: ScriptRun | undefined;
  let pending = "";
  let offset = 0;
  let pendingStart = 0;
  for (const char of text) {
    const script = MARK.test(char) ? "Zyyy" : scriptOf(char);
    if (script === "Zyyy") {
      if (current) current.text += char;
      else {
        if (!pending) pendingStart = offset;
        pending += char;
      }
    } else if (current && sameRun(current.script, script)) {
      current.text += char;
    } else {
      current = { script, text: pending + char, start: pending ? pendingStart : offset };
      pending = "";
      runs.push(current);
    }
    offset += char.length;
  }
  if (pending) runs.push({ script: "Zyyy", text: pending, start: pendingStart });
  return runs;
}

/** Kana and Han alternate inside Japanese words; they form one run for splitting purposes. */
function sameRun(a: ScriptCode, b: ScriptCode): boolean {
  return a === b || (isCjk(a) && isCjk(b) && a !== "Hang" && b !== "Hang");
}

export function isCjk(script: ScriptCode): boolean {
  return script === "Hani" || script === "Hira" || script === "Kana" || script === "Hang";
}

/** Letters with the weight CJK characters deserve: one ideograph or syllable carries about three letters' worth of text. */
export const CJK_WEIGHT = 3;
