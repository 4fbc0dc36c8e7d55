/**
 * The local model store: manifests, presence checks, listing and removal. Synchronous file-system
 * checks only, so `--engine auto` and `doctor` can ask cheaply (no transformers, no network).
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { dtypeLabel, DTYPES, onnxFiles, parseDtype, uniform, type DtypeSpec } from "./dtypes.js";
import { MANIFEST, pulledDir, repoSlug, slugRepo, stagingDir } from "./paths.js";

export interface ManifestFile {
  path: string;
  size: number;
  /** LFS sha256, for large files. */
  sha256?: string;
  /** Git blob id (sha1), for small files. */
  oid?: string;
}

/** Written last into a pulled model directory; the directory counts as present only with it. */
export interface Manifest {
  format: 1;
  repo: string;
  /** The revision asked for (branch, tag or commit). */
  revision: string;
  /** The commit it resolved to. */
  commit: string;
  /** dtypeLabel of the spec. */
  dtype: string;
  spec: DtypeSpec;
  hub: string;
  files: ManifestFile[];
  pulledAt: string;
}

export function readManifest(dir: string): Manifest | undefined {
  try {
    const value = JSON.parse(readFileSync(path.join(dir, MANIFEST), "utf8")) as Partial<Manifest>;
    if (value.format !== 1 || typeof value.repo !== "string" || !Array.isArray(value.files) || !value.spec) return undefined;
    return value as Manifest;
  } catch {
    return undefined;
  }
}

/** The ONNX files a spec needs that are missing from a directory. */
export function missingFiles(dir: string, spec: DtypeSpec): string[] {
  return ["config.json", ...onnxFiles(spec)].filter((f) => !existsSync(path.join(dir, f)));
}

/** Uniform precisions whose three ONNX files are all in a model directory. */
export function dtypesIn(dir: string): DtypeSpec[] {
  return DTYPES.map(uniform).filter((spec) => missingFiles(dir, spec).length === 0);
}

export interface PulledModel {
  repo: string;
  dtype: string;
  spec: DtypeSpec;
  dir: string;
  revision: string;
  commit: string;
  bytes: number;
  pulledAt: string;
}

/** A repo's complete pulled directory for a spec, if present. */
export function findPulled(root: string, repo: string, spec: DtypeSpec): PulledModel | undefined {
  const dir = pulledDir(root, repo, dtypeLabel(spec));
  const manifest = readManifest(dir);
  if (!manifest || manifest.repo !== repo) return undefined;
  return toPulled(dir, manifest);
}

/** Every complete pulled model under the models root (unfinished downloads are skipped). */
export function listPulled(root: string, repo?: string): PulledModel[] {
  const out: PulledModel[] = [];
  for (const slug of safeReaddir(root)) {
    if (repo && slug !== repoSlug(repo)) continue;
    for (const entry of safeReaddir(path.join(root, slug))) {
      if (entry.startsWith(".")) continue;
      const dir = path.join(root, slug, entry);
      const manifest = readManifest(dir);
      if (manifest && manifest.repo === slugRepo(slug)) out.push(toPulled(dir, manifest));
    }
  }
  return out.sort((a, b) => a.repo.localeCompare(b.repo) || a.dtype.localeCompare(b.dtype));
}

/** Unfinished downloads (staging directories) of a repo, or of all repos. */
export function listPartial(root: string, repo?: string): string[] {
  const out: string[] = [];
  for (const slug of safeReaddir(root)) {
    if (repo && slug !== repoSlug(repo)) continue;
    for (const entry of safeReaddir(path.join(root, slug))) {
      if (entry.startsWith(".") && entry.endsWith(".partial")) out.push(path.join(root, slug, entry));
    }
  }
  return out;
}

/**
 * Removes a repo's pulled directories (one precision when `spec` is given) and its unfinished
 * downloads; returns the directories removed.
 */
export function removePulled(root: string, repo: string, spec?: DtypeSpec): string[] {
  const removed: string[] = [];
  const repoDir = path.join(root, repoSlug(repo));
  if (spec) {
    const label = dtypeLabel(spec);
    for (const dir of [pulledDir(root, repo, label), stagingDir(root, repo, label)]) {
      if (existsSync(dir)) {
        rmSync(dir, { recursive: true, force: true });
        removed.push(dir);
      }
    }
    if (existsSync(repoDir) && safeReaddir(repoDir).length === 0) rmSync(repoDir, { recursive: true, force: true });
  } else if (existsSync(repoDir)) {
    removed.push(...safeReaddir(repoDir).map((e) => path.join(repoDir, e)));
    rmSync(repoDir, { recursive: true, force: true });
  }
  return removed;
}

function toPulled(dir: string, manifest: Manifest): PulledModel {
  return {
    repo: manifest.repo,
    dtype: manifest.dtype,
    spec: manifest.spec ?? parseDtype(manifest.dtype),
    dir,
    revision: manifest.revision,
    commit: manifest.commit,
    bytes: manifest.files.reduce((sum, f) => sum + f.size, 0),
    pulledAt: manifest.pulledAt,
  };
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir).filter((e) => {
      try {
        return statSync(path.join(dir, e)).isDirectory();
      } catch {
        return false;
      }
    });
  } catch {
    return [];
  }
}
