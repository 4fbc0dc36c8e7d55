/** The multilingual evaluation set's manifest (../shared/eval/multilingual/manifest.json; see its README). */
import { readFileSync } from "node:fs";
import path from "node:path";

export interface ManifestEntry {
  id: string;
  /** The image or PDF, relative to the set's directory. */
  file: string;
  /** The page of a multi-page file (1-based); absent for single pages. */
  page?: number;
  /** Ground-truth text, relative to the set's directory. */
  gt_file: string;
  /** Primary language tags, in the page's order (`zh`, `en`, …). */
  languages: string[];
  /** Full BCP-47 tags (`zh-Hans`, …). */
  bcp47: string[];
  /** e.g. "born-digital PDF", "scanned PDF", "photo". */
  kind: string;
}

export function readManifest(dir: string): ManifestEntry[] {
  return JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8")) as ManifestEntry[];
}
