/**
 * ELD's n-gram table, read as text instead of evaluated as JavaScript.
 *
 * ELD ships each table as one object literal (eld/medium: 2 MB of source, 105,548 n-grams, each
 * an object from language index to score). Importing it makes V8 build those 105k objects: 0.8 s,
 * ~150 MB more peak RSS, 61 MB of heap kept for the life of the process. That was a quarter of a
 * scan's peak memory. Read here into one Map and three typed arrays it takes 0.15 s and ~14 MB,
 * and ELD's own detector runs on it unchanged (ngramView), so detection is the same function of
 * the same numbers: the tests compare both on the installed table, entry by entry.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

export interface NgramTable {
  /** ELD's name for the table, e.g. "M60" (medium, 60 languages). */
  type: string;
  /** Language index → ISO 639-1 code, as ELD numbers them. */
  languages: Record<number, string>;
  /** N-gram → its row; row r's entries are starts[r] … starts[r + 1] - 1. */
  rows: Map<string, number>;
  starts: Uint32Array;
  langs: Uint8Array;
  scores: Uint8Array;
}

/** The n-grams' lookup as ELD's detector reads it: `ngrams[key]` → `{ [language index]: score }`. */
export type NgramLookup = Record<string, Record<number, number> | undefined>;

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", v: "\v", "0": "\0" };

/** Parses the source of one of ELD's `ngrams/*.js` files (`export const ngramsData = {…}`). */
export function parseNgramSource(source: string): NgramTable {
  const fail = (what: string, at: number): never => {
    throw new Error(`ELD n-gram table: ${what} at offset ${at} (${JSON.stringify(source.slice(at, at + 20))})`);
  };
  const type = /\btype:\s*'([^']*)'/.exec(source)?.[1] ?? fail("no type", 0);
  const languagesBody = /\blanguages:\s*\{([^}]*)\}/.exec(source)?.[1] ?? fail("no languages", 0);
  const languages: Record<number, string> = {};
  for (const m of languagesBody.matchAll(/(\d+):\s*'([^']*)'/g)) languages[Number(m[1])] = m[2];

  const open = source.indexOf("ngrams:{");
  if (open < 0) fail("no ngrams", 0);
  let i = open + "ngrams:{".length;
  const rows = new Map<string, number>();
  const starts: number[] = [0];
  const langs: number[] = [];
  const scores: number[] = [];
  const digits = (): number => {
    const from = i;
    let n = 0;
    for (let c = source.charCodeAt(i); c >= 48 && c <= 57; c = source.charCodeAt(++i)) n = n * 10 + (c - 48);
    if (i === from || n > 255) fail("expected a number up to 255", from);
    return n;
  };
  while (source[i] !== "}") {
    // Keys are quoted with ' or ", or bare when they are identifiers.
    const quote = source[i];
    let key: string;
    if (quote === "'" || quote === '"') {
      const from = ++i;
      let escaped = false;
      while (source[i] !== quote) {
        if (i >= source.length) fail("unterminated key", from);
        if (source[i] === "\\") {
          escaped = true;
          i++;
        }
        i++;
      }
      key = source.slice(from, i++);
      if (escaped) key = key.replace(/\\(.)/g, (_, c: string) => ESCAPES[c] ?? c);
    } else {
      const colon = source.indexOf(":", i);
      if (colon < 0) fail("expected a key", i);
      key = source.slice(i, colon);
      i = colon;
    }
    if (source[i++] !== ":" || source[i++] !== "{") fail("expected ':{'", i - 2);
    for (;;) {
      langs.push(digits());
      if (source[i++] !== ":") fail("expected ':'", i - 1);
      scores.push(digits());
      const next = source[i++];
      if (next === "}") break;
      if (next !== ",") fail("expected ',' or '}'", i - 1);
    }
    rows.set(key, starts.length - 1);
    starts.push(langs.length);
    if (source[i] === ",") i++;
    else if (source[i] !== "}") fail("expected ',' or '}'", i);
  }
  return { type, languages, rows, starts: Uint32Array.from(starts), langs: Uint8Array.from(langs), scores: Uint8Array.from(scores) };
}

/**
 * The table as the `ngrams` object ELD's detector indexes. Each lookup builds the one small row
 * object it asks for; a page asks for a few hundred.
 */
export function ngramView(table: NgramTable): NgramLookup {
  return new Proxy({} as NgramLookup, {
    get(_, key) {
      if (typeof key !== "string") return undefined;
      const row = table.rows.get(key);
      if (row === undefined) return undefined;
      const entries: Record<number, number> = {};
      for (let e = table.starts[row]; e < table.starts[row + 1]; e++) entries[table.langs[e]] = table.scores[e];
      return entries;
    },
  });
}

/** What this module uses of an ELD detector instance. */
export interface EldInstance {
  detect(text: string): { language: string; getScores(): Record<string, number> };
  info(): { Languages: Record<number, string> };
}

interface EldInternals {
  createEld(): { instance: EldInstance; loadData(data: { type: string; languages: Record<number, string>; ngrams: NgramLookup }): string };
}

/**
 * ELD's detector with the named table (its `ngrams/<size>.js`) read by parseNgramSource. ELD's
 * package exports only the entries that evaluate the table, so its detector and data files are
 * reached by their paths beside the resolved entry; `loadEld` falls back to the entry if they move.
 */
export async function loadCompactEld(size: "medium" = "medium"): Promise<EldInstance> {
  const entry = import.meta.resolve("eld");
  const internals = (await import(new URL("../languageDetector.js", entry).href)) as EldInternals;
  const table = parseNgramSource(await readFile(fileURLToPath(new URL(`../ngrams/${size}.js`, entry)), "utf8"));
  const { instance, loadData } = internals.createEld();
  loadData({ type: table.type, languages: table.languages, ngrams: ngramView(table) });
  return instance;
}
