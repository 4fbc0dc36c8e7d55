/**
 * The n-gram detector behind the letter rules. Only this file and eld-table.ts (which reads its
 * table) know which package it is. The table loads on first use, never for `--help`.
 */
import { loadCompactEld, type EldInstance } from "./eld-table.js";
import { malayOrIndonesian } from "./rules.js";

/** One candidate language and the detector's score for it, higher is better. */
export interface Ranked {
  lang: string;
  score: number;
}

export interface NgramBackend {
  readonly name: string;
  /** The languages `rank` can return (BCP-47 primary tags). */
  readonly languages: ReadonlySet<string>;
  /** Candidates among `only` (those it supports), best first; empty when it cannot tell. */
  rank(text: string, only: readonly string[]): Ranked[];
  /**
   * Whether a ranking of a text with this many letters can be trusted on its own: how far the
   * best score has to lead the second, relative to the best, for a text of this length.
   */
  reliable(ranked: readonly Ranked[], letters: number): boolean;
}

/**
 * Whether an ELD ranking of a text with this many letters can be trusted on its own. The lead it
 * needs shrinks with the length: short texts need a clear one (a 13-letter "Sichuan Corner" scores
 * German a little above English), while on long texts close languages (Bulgarian and Russian,
 * Spanish and Catalan) are told apart by a lead of a few hundredths.
 */
export function reliableLead(ranked: readonly Ranked[], letters: number): boolean {
  if (letters < 12) return false;
  return lead(ranked) >= Math.max(0.01, 2 / letters);
}

/** The relative lead of the best candidate over the second: 0 for a tie, 1 when alone. */
export function lead(ranked: readonly Ranked[]): number {
  if (!ranked.length || ranked[0].score <= 0) return 0;
  if (ranked.length === 1) return 1;
  return (ranked[0].score - ranked[1].score) / ranked[0].score;
}

let loading: Promise<NgramBackend> | undefined;

/** The default detector (ELD, its medium n-gram table), loaded once per process. */
export function loadDefaultBackend(): Promise<NgramBackend> {
  loading ??= loadEld().catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

/**
 * ELD's detector on its medium table, read compactly (eld-table.ts). Should ELD's files move in
 * some later release, its own entry still works, at the old cost in memory and load time.
 */
async function loadEldMedium(): Promise<EldInstance> {
  try {
    return await loadCompactEld("medium");
  } catch {
    const module: { eld: EldInstance } = await import("eld/medium");
    return module.eld;
  }
}

async function loadEld(): Promise<NgramBackend> {
  const eld = await loadEldMedium();
  const languages = new Set(Object.values(eld.info().Languages));
  return {
    name: "eld",
    languages,
    rank(text, only) {
      const scores = eld.detect(text).getScores();
      // ELD has one model, "ms", for Malay and Indonesian: spelling tells them apart.
      if (scores.ms !== undefined && scores.id === undefined && malayOrIndonesian(text) === "id") {
        scores.id = scores.ms;
        delete scores.ms;
      }
      return only
        .filter((lang) => scores[lang] !== undefined)
        .map((lang) => ({ lang, score: scores[lang] }))
        .sort((a, b) => b.score - a.score);
    },
    reliable: reliableLead,
  };
}
