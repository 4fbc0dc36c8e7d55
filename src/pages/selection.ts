import { UsageError } from "../errors.js";

/** One range of 1-based page numbers, both ends inclusive; `to` absent means "to the last page". */
export interface PageRange {
  from: number;
  to?: number;
}

/** Which pages of every source to read (`--pages`). An empty selection would select nothing; `parsePageSelection` never returns one. */
export type PageSelection = readonly PageRange[];

/**
 * Parses a `--pages` spec: comma-separated 1-based page numbers and ranges, e.g. `1-3,7,10-`.
 * `N-` runs to the last page, `-N` is `1-N`. Spaces around items are allowed. Throws a
 * `UsageError` on anything else (zero, reversed ranges, letters, empty items).
 */
export function parsePageSelection(spec: string): PageSelection {
  const fail = (why: string): never => {
    throw new UsageError(`invalid page selection "${spec}": ${why} (expected e.g. 1-3,7,10-)`);
  };
  if (spec.trim() === "") fail("it is empty");
  const ranges: PageRange[] = [];
  for (const raw of spec.split(",")) {
    const item = raw.trim();
    const m = /^(\d*)\s*(-?)\s*(\d*)$/.exec(item);
    if (!m || item === "" || item === "-") fail(item === "" ? "empty item" : `"${item}" is not a page or range`);
    const [, a = "", dash = "", b = ""] = m!;
    const num = (s: string): number => {
      const n = Number(s);
      if (!Number.isSafeInteger(n) || n < 1) fail(`page numbers start at 1, got "${s}"`);
      return n;
    };
    if (!dash) {
      const n = num(a);
      ranges.push({ from: n, to: n });
    } else {
      const from = a ? num(a) : 1;
      if (b) {
        const to = num(b);
        if (to < from) fail(`"${item}" runs backwards`);
        ranges.push({ from, to });
      } else {
        ranges.push({ from });
      }
    }
  }
  return ranges;
}

/** Whether `page` (1-based) is selected; no selection selects every page. */
export function isPageSelected(selection: PageSelection | undefined, page: number): boolean {
  if (!selection) return true;
  return selection.some((r) => page >= r.from && (r.to === undefined || page <= r.to));
}

/**
 * The selected pages of a source with `count` pages, ascending and without repeats (pages are
 * always read in document order, whatever order the spec names them in). Pages past the end are
 * simply absent, so the result can be empty.
 */
export function selectedPages(selection: PageSelection | undefined, count: number): number[] {
  const out: number[] = [];
  if (!selection) {
    for (let p = 1; p <= count; p++) out.push(p);
    return out;
  }
  for (let p = 1; p <= count; p++) if (isPageSelected(selection, p)) out.push(p);
  return out;
}

/** The spec back in canonical form, e.g. for a cache key or a message: `1-3,7,10-`. */
export function formatPageSelection(selection: PageSelection): string {
  return selection.map((r) => (r.to === r.from ? `${r.from}` : `${r.from}-${r.to ?? ""}`)).join(",");
}
