/**
 * Language of each line of a page: scripts first, letter rules second, an n-gram detector for what
 * they leave open (which Latin, Cyrillic, Arabic or Devanagari language), and the page around a
 * line for what one line alone cannot tell (short lines, Han-only lines, prices and numbers).
 */
import { lead, type NgramBackend, type Ranked } from "./backend.js";
import { compatibleVariants, hanEvidence, type HanVariant } from "./han.js";
import { languageDirection, type Direction } from "./names.js";
import {
  arabicByLetters,
  cyrillicByLetters,
  devanagariByWords,
  hebrewByLetters,
  latinByLetters,
  SCRIPT_CANDIDATES,
  SCRIPT_LANGUAGE,
} from "./rules.js";
import { CJK_WEIGHT, isCjk, scriptOf, type ScriptCode } from "./scripts.js";

/** How a line's language was decided, from the most to the least certain. */
export type Decision =
  /** Its script belongs to one language (kana → ja, Hangul → ko, Thai → th). */
  | "script"
  /** Distinctive letters or characters (ї → uk, پ → fa, 这 → zh-Hans, 単 → ja). */
  | "letters"
  /** The n-gram detector, confident on the line alone. */
  | "detector"
  /** The nearest lines of the same script, or the page's other lines of that script together. */
  | "context"
  /** Too few letters to judge: the nearest line's language. */
  | "neighbour"
  /** Nothing decided: the script's most common language. */
  | "default"
  /** No letters at all (numbers, prices, punctuation): `und`. */
  | "none";

/** A part of a line in a different script from the rest, split off at a clear separator (· | / tab, wide gaps). */
export interface LanguageSegment {
  text: string;
  lang: string;
  script: string;
  dir: Direction;
  confidence: number;
}

export interface LineLanguage {
  /** BCP-47 tag: `en`, `zh-Hans`, `zh-Hant`, `ja`, `ar`, …; `und` for lines without letters. */
  lang: string;
  /** ISO 15924 code of the line's writing: `Latn`, `Cyrl`, `Arab`, `Hans`, `Hant`, `Jpan`, `Kore`, …; `Zyyy` without letters. */
  script: string;
  /** In [0, 1]: about 0.95 and above when script or letters decide, lower for context and defaults, 0 for `und`. */
  confidence: number;
  /** Writing direction of the language; the text itself stays in logical (reading) order. */
  dir: Direction;
  by: Decision;
  /** Present when the line holds parts in different scripts and languages (a bilingual menu line). */
  segments?: LanguageSegment[];
}

type Family = ScriptCode | "Jpan" | "Kore";

interface Unit {
  line: number;
  text: string;
  family?: Family;
  /** Letters of the unit's own family (CJK characters weighted) and the text with other scripts blanked. */
  weight: number;
  letters: number;
  familyText: string;
  lang: string;
  confidence: number;
  by: Decision;
  /** Decided by its own letters or a confident detector: a reference for its neighbours. */
  anchor: boolean;
  han?: HanVariant[];
  ranked?: Ranked[];
}

const UND: LineLanguage = { lang: "und", script: "Zyyy", confidence: 0, dir: "ltr", by: "none" };

/** Fewer weighted letters than this and a line of a detector-decided script takes its neighbour's language. */
const SHORT = 4;

/** Separators between parts of a line that may be in different languages. */
const SEPARATOR = /\s+[|/]\s+|\s*[·•｜／]\s*|[\t\u3000]+|\s{2,}/u;

export class LanguageDetector {
  constructor(readonly backend?: NgramBackend) {}

  /** The language of every line of one page (or block), each judged with the others as context. */
  detectLines(lines: readonly string[]): LineLanguage[] {
    const units: Unit[] = [];
    const byLine: Unit[][] = lines.map((text, line) => {
      const parts = splitParts(text).map((part) => this.analyse(line, part));
      units.push(...parts);
      return parts;
    });
    this.resolveFamilies(units);
    this.resolveHan(units);
    inheritShort(units);
    return byLine.map((parts) => toLineLanguage(parts));
  }

  /** One line's language; `context` lines (before and after it on the page) help with short and Han-only lines. */
  detect(line: string, context: { before?: readonly string[]; after?: readonly string[] } = {}): LineLanguage {
    const before = context.before ?? [];
    return this.detectLines([...before, line, ...(context.after ?? [])])[before.length];
  }

  private analyse(line: number, text: string): Unit {
    const { family, weight, letters, familyText } = dominantFamily(text);
    const unit: Unit = { line, text, family, weight, letters, familyText, lang: "und", confidence: 0, by: "none", anchor: false };
    if (!family) return unit;
    const decide = (lang: string, by: Decision, confidence: number, anchor = true) =>
      Object.assign(unit, { lang, by, confidence, anchor });

    if (family === "Jpan") return decide("ja", "script", 0.99);
    if (family === "Kore") return decide("ko", "script", 0.99);
    const owned = SCRIPT_LANGUAGE[family as ScriptCode];
    if (owned) return decide(owned, "script", letters >= 2 ? 0.99 : 0.9);
    if (family === "Hani") {
      const evidence = hanEvidence(familyText);
      unit.han = compatibleVariants(evidence);
      if (unit.han.length === 1) {
        const misfits = Object.values(evidence.misfits).sort((a, b) => a - b);
        return decide(unit.han[0], "letters", Math.min(0.99, 0.75 + 0.08 * (misfits[1] - misfits[0])));
      }
      return unit;
    }
    if (family === "Hebr") return decide(hebrewByLetters(familyText), "letters", 0.95);

    const byLetters =
      family === "Arab" ? arabicByLetters(familyText)
      : family === "Cyrl" ? cyrillicByLetters(familyText)
      : family === "Deva" ? devanagariByWords(familyText)
      : family === "Latn" ? latinByLetters(familyText)
      : undefined;
    if (byLetters) return decide(byLetters, "letters", 0.95, weight >= SHORT);

    const spec = SCRIPT_CANDIDATES[family as ScriptCode];
    if (!spec) return decide(family, "default", 0.3, false);
    if (this.backend && weight >= SHORT) {
      unit.ranked = this.backend.rank(familyText, spec.candidates);
      if (unit.ranked.length && this.backend.reliable(unit.ranked, letters) && beatsPrior(unit.ranked, letters, spec.fallback)) {
        return decide(unit.ranked[0].lang, "detector", Math.min(0.98, 0.6 + 2 * lead(unit.ranked)));
      }
    }
    return decide(unit.ranked?.[0]?.lang ?? spec.fallback, "default", 0.3, false);
  }

  /**
   * Lines the detector was not sure of take the language of the nearest sure line of the same
   * script (the following one on a tie: headings come before their text); with none on the page,
   * the detector judges all the page's lines of that script together.
   */
  private resolveFamilies(units: Unit[]): void {
    const families = new Set(units.filter((u) => u.by === "default").map((u) => u.family!));
    for (const family of families) {
      const members = units.filter((u) => u.family === family && u.weight >= SHORT);
      const anchors = members.filter((u) => u.anchor);
      const open = members.filter((u) => !u.anchor && u.by === "default");
      if (!open.length) continue;
      if (anchors.length) {
        for (const unit of open) {
          const nearest = nearestUnit(units, unit, (u) => u.anchor && u.family === family);
          if (nearest) Object.assign(unit, { lang: nearest.lang, by: "context", confidence: 0.7 });
        }
        continue;
      }
      const spec = SCRIPT_CANDIDATES[family as ScriptCode];
      if (!spec || !this.backend) continue;
      const pooled = members.map((u) => u.familyText).join("\n");
      const letters = members.reduce((n, u) => n + u.letters, 0);
      const ranked = this.backend.rank(pooled, spec.candidates);
      if (!ranked.length) continue;
      const sure = this.backend.reliable(ranked, letters) && beatsPrior(ranked, letters, spec.fallback);
      for (const unit of open) {
        Object.assign(unit, sure ? { lang: ranked[0].lang, by: "context", confidence: 0.6 } : { lang: spec.fallback, confidence: 0.3 });
      }
    }
  }

  /**
   * Han-only text that fits more than one of Simplified, Traditional and Japanese: the variant
   * the page's other lines show. Han-only lines that decide count double (this line looks like
   * them), kana lines count for Japanese; a tie goes to the nearest line that decided, then to
   * Simplified, Traditional, Japanese in that order.
   */
  private resolveHan(units: Unit[]): void {
    const score: Record<HanVariant, number> = { "zh-Hans": 0, "zh-Hant": 0, ja: 0 };
    for (const u of units) {
      if (u.family === "Hani" && u.han?.length === 1) score[u.han[0]] += 2;
      if (u.family === "Jpan") score.ja += 1;
    }
    for (const unit of units) {
      if (unit.family !== "Hani" || !unit.han || unit.han.length === 1) continue;
      // Parts of one line split at separators are the same thing in different languages
      // ("今日推荐 · 本日のおすすめ"): a shared part is not in a sibling's language.
      const siblings = new Set(units.filter((u) => u !== unit && u.line === unit.line && u.anchor).map((u) => u.lang));
      const open = unit.han.filter((v) => !siblings.has(v));
      const candidates = open.length ? open : unit.han;
      const best = Math.max(...candidates.map((v) => score[v]));
      let choices = candidates.filter((v) => score[v] === best);
      if (choices.length > 1) {
        const near = nearestUnit(units, unit, (u) => u.anchor && (u.family === "Hani" || u.family === "Jpan") && choices.includes(u.lang as HanVariant));
        if (near) choices = [near.lang as HanVariant];
      }
      const evidence = best > 0;
      Object.assign(unit, { lang: choices[0], by: evidence ? "context" : "default", confidence: evidence ? 0.7 : 0.4, anchor: false });
    }
  }
}

/** Splits a line at separators when the parts are in different scripts; otherwise the whole line. */
function splitParts(text: string): string[] {
  if (!SEPARATOR.test(text)) return [text];
  const parts: Array<{ text: string; family?: Family }> = [];
  for (const raw of text.split(SEPARATOR)) {
    const piece = raw.trim();
    if (!piece) continue;
    const { family } = dominantFamily(piece);
    const last = parts[parts.length - 1];
    if (last && (!family || family === last.family)) last.text += ` ${piece}`;
    else if (last && !last.family) Object.assign(last, { text: `${last.text} ${piece}`, family });
    else parts.push({ text: piece, family });
  }
  return parts.length > 1 ? parts.map((p) => p.text) : [text];
}

/** The script family with the most (weighted) letters, and the text with other scripts' letters blanked out. */
function dominantFamily(text: string): { family?: Family; weight: number; letters: number; familyText: string } {
  const counts = new Map<ScriptCode, number>();
  const scripts: ScriptCode[] = [];
  for (const char of text) {
    const script = scriptOf(char);
    scripts.push(script);
    if (script !== "Zyyy") counts.set(script, (counts.get(script) ?? 0) + 1);
  }
  if (!counts.size) return { weight: 0, letters: 0, familyText: "" };
  const kana = (counts.get("Hira") ?? 0) + (counts.get("Kana") ?? 0);
  const hangul = counts.get("Hang") ?? 0;
  const family = (s: ScriptCode): Family => (isCjk(s) ? (kana ? "Jpan" : hangul ? "Kore" : "Hani") : s);
  const letters = new Map<Family, number>();
  for (const [script, n] of counts) letters.set(family(script), (letters.get(family(script)) ?? 0) + n);
  const weightOf = (f: Family, n: number) => (f === "Jpan" || f === "Kore" || f === "Hani" ? n * CJK_WEIGHT : n);
  let best: Family | undefined;
  let bestWeight = 0;
  for (const [f, n] of letters) {
    if (weightOf(f, n) > bestWeight) [best, bestWeight] = [f, weightOf(f, n)];
  }
  const chars = [...text];
  const familyText = chars
    .map((c, i) => (scripts[i] === "Zyyy" || family(scripts[i]) === best ? c : " "))
    .join("");
  return { family: best, weight: bestWeight, letters: letters.get(best!) ?? 0, familyText };
}

/** The nearest unit on another line that matches; the following one wins a tie. */
function nearestUnit(units: readonly Unit[], from: Unit, match: (u: Unit) => boolean): Unit | undefined {
  let best: Unit | undefined;
  let bestDistance = Infinity;
  for (const u of units) {
    if (u === from || !match(u)) continue;
    const distance = Math.abs(u.line - from.line) + (u.line < from.line ? 0.5 : 0);
    if (distance < bestDistance) [best, bestDistance] = [u, distance];
  }
  return best;
}

/**
 * Short text in a script whose language needs a detector ("x2", "ml", "Tel", "д. 7") cannot be
 * judged: it takes the language of the nearest line with enough letters, whatever its script.
 */
function inheritShort(units: Unit[]): void {
  for (const unit of units) {
    if (!unit.family || unit.weight >= SHORT || unit.by === "script" || unit.family === "Hani") continue;
    const near = nearestUnit(units, unit, (u) => !!u.family && (u.weight >= SHORT || u.by === "script" || u.family === "Hani"));
    if (near) Object.assign(unit, { lang: near.lang, by: "neighbour", confidence: 0.5 });
  }
}

function scriptFor(unit: Unit): string {
  if (unit.family === "Hani") return unit.lang === "zh-Hant" ? "Hant" : unit.lang === "ja" ? "Jpan" : "Hans";
  return unit.family ?? "Zyyy";
}

function toLineLanguage(parts: Unit[]): LineLanguage {
  const withLetters = parts.filter((p) => p.family);
  if (!withLetters.length) return { ...UND };
  const main = withLetters.reduce((a, b) => (b.weight > a.weight ? b : a));
  const result: LineLanguage = {
    lang: main.lang,
    script: scriptFor(main),
    confidence: round(main.confidence),
    dir: languageDirection(main.lang),
    by: main.by,
  };
  if (parts.length > 1 && new Set(withLetters.map((p) => p.lang)).size > 1) {
    result.segments = parts.map((p) => ({
      text: p.text,
      lang: p.family ? p.lang : "und",
      script: scriptFor(p),
      dir: languageDirection(p.lang),
      confidence: round(p.confidence),
    }));
  }
  return result;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * A few words of names and dishes ("Kung Pao Chicken", "Mapo Tofu") look like Tagalog or
 * Indonesian to an n-gram model as easily as like English. On so little text the script's usual
 * language (English for Latin) keeps the benefit of the doubt unless another wins clearly.
 */
function beatsPrior(ranked: readonly { lang: string; score: number }[], letters: number, fallback: string): boolean {
  if (ranked[0].lang === fallback || letters >= PRIOR_LETTERS) return true;
  return lead(ranked) >= PRIOR_LEAD;
}

/** Below this many letters the prior applies; past it the detector's own reliability test decides. */
const PRIOR_LETTERS = 40;
/** The lead (as in `lead()`) another language needs over the rest to overrule the prior on short text. */
const PRIOR_LEAD = 0.25;
