/**
 * Which written standards a run of Han characters fits: Simplified Chinese, Traditional Chinese,
 * Japanese. Most characters are shared by all three; the few that are not (这/這, 国/國/国,
 * 単/單/单, 鱼/魚) decide. The tables come from OpenCC's character dictionaries (han-data.ts).
 */
import { NOT_HANS, NOT_HANT, NOT_JA } from "./han-data.js";

export type HanVariant = "zh-Hans" | "zh-Hant" | "ja";

export const HAN_VARIANTS: readonly HanVariant[] = ["zh-Hans", "zh-Hant", "ja"];

let tables: { hans: Set<string>; hant: Set<string>; ja: Set<string> } | undefined;

function load() {
  tables ??= { hans: new Set(NOT_HANS), hant: new Set(NOT_HANT), ja: new Set(NOT_JA) };
  return tables;
}

const HAN = /\p{Script=Han}/u;

export interface HanEvidence {
  /** Han characters in the text. */
  han: number;
  /** Per variant, how many characters that variant does not use. */
  misfits: Record<HanVariant, number>;
}

export function hanEvidence(text: string): HanEvidence {
  const t = load();
  const misfits: Record<HanVariant, number> = { "zh-Hans": 0, "zh-Hant": 0, ja: 0 };
  let han = 0;
  for (const char of text) {
    if (!HAN.test(char)) continue;
    han++;
    if (t.hans.has(char)) misfits["zh-Hans"]++;
    if (t.hant.has(char)) misfits["zh-Hant"]++;
    if (t.ja.has(char)) misfits.ja++;
  }
  return { han, misfits };
}

/**
 * The variants the text fits best: those with the fewest misfit characters. One variant means the
 * characters decide; two or three mean the text is shared and its context has to decide.
 */
export function compatibleVariants(evidence: HanEvidence): HanVariant[] {
  const least = Math.min(...HAN_VARIANTS.map((v) => evidence.misfits[v]));
  return HAN_VARIANTS.filter((v) => evidence.misfits[v] === least);
}
