/**
 * Scoring conventions of ../shared/eval/README.md, shared by `npm run eval`, benchmarks and tests:
 * character error rate, bag-of-words F1 and the SROIE key-field hit rate.
 */
import { distance } from "fastest-levenshtein";

export interface NormalizeOptions {
  /** Drop whitespace entirely (zh/ja/th text) instead of collapsing it to one space. */
  ignoreWhitespace?: boolean;
}

/** NFKC, then every whitespace run collapsed to one space (or removed), ends trimmed. */
export function normalize(text: string, opts: NormalizeOptions = {}): string {
  const nfkc = text.normalize("NFKC");
  return opts.ignoreWhitespace ? nfkc.replace(/\s+/gu, "") : nfkc.replace(/\s+/gu, " ").trim();
}

export interface CerScore {
  /** Levenshtein distance in code points. */
  edits: number;
  /** Ground-truth length in code points. */
  refLength: number;
  /** edits / refLength (0 for an empty reference matched exactly, 1 when it is not). */
  cer: number;
}

/**
 * Strings whose code points are mapped one-to-one onto single UTF-16 units, so a code-unit
 * Levenshtein distance counts code points (astral characters go to the private-use area).
 */
function toUnits(a: string, b: string): [string, string] {
  if (!/[\uD800-\uDFFF]/u.test(a + b)) return [a, b];
  const map = new Map<number, string>();
  let next = 0xe000;
  const conv = (s: string) => {
    let out = "";
    for (const ch of s) {
      const cp = ch.codePointAt(0) ?? 0;
      if (cp < 0x10000) {
        out += ch;
        continue;
      }
      let u = map.get(cp);
      if (u === undefined) {
        u = String.fromCharCode(next++);
        map.set(cp, u);
      }
      out += u;
    }
    return out;
  };
  return [conv(a), conv(b)];
}

/** Character error rate of `hyp` against `ref`, both normalised first. */
export function cer(hyp: string, ref: string, opts: NormalizeOptions = {}): CerScore {
  const [h, r] = toUnits(normalize(hyp, opts), normalize(ref, opts));
  const refLength = [...normalize(ref, opts)].length;
  const edits = distance(h, r);
  return { edits, refLength, cer: refLength ? edits / refLength : edits ? 1 : 0 };
}

export interface BowScore {
  /** Tokens found in both (multiset intersection). */
  matched: number;
  hypTokens: number;
  refTokens: number;
  precision: number;
  recall: number;
  f1: number;
}

function tokens(text: string): string[] {
  const n = normalize(text);
  return n ? n.split(" ") : [];
}

/** Order-insensitive multiset match of whitespace tokens after normalisation, with its counts. */
export function bowScore(hyp: string, ref: string): BowScore {
  const h = tokens(hyp);
  const r = tokens(ref);
  const counts = new Map<string, number>();
  for (const t of r) counts.set(t, (counts.get(t) ?? 0) + 1);
  let matched = 0;
  for (const t of h) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      matched++;
      counts.set(t, c - 1);
    }
  }
  const precision = h.length ? matched / h.length : r.length ? 0 : 1;
  const recall = r.length ? matched / r.length : h.length ? 0 : 1;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { matched, hypTokens: h.length, refTokens: r.length, precision, recall, f1 };
}

/** Bag-of-words F1 in [0, 1]. */
export function bowF1(hyp: string, ref: string): number {
  return bowScore(hyp, ref).f1;
}

/** The SROIE key fields. */
export const SROIE_FIELDS = ["company", "date", "address", "total"] as const;
export type SroieField = (typeof SROIE_FIELDS)[number];
export type SroieKey = Partial<Record<SroieField, string>>;

/** NFKC, uppercase, all whitespace removed: the key-field matching form. */
export function keyForm(text: string): string {
  return text.normalize("NFKC").toUpperCase().replace(/\s+/gu, "");
}

/** For each field present in `key`: whether its value occurs in the output (both in key form). */
export function sroieKeyHits(hyp: string, key: SroieKey): Partial<Record<SroieField, boolean>> {
  const h = keyForm(hyp);
  const hits: Partial<Record<SroieField, boolean>> = {};
  for (const field of SROIE_FIELDS) {
    const value = key[field];
    if (typeof value === "string") hits[field] = h.includes(keyForm(value));
  }
  return hits;
}
