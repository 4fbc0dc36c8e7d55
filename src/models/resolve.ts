/**
 * Turns `--model <dir|repo-id>` and `--dtype` into the directory transformers.js will load, or a
 * reason and the command that fixes it. File-system checks only: this runs before any heavy import.
 */
import { existsSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { dtypeLabel, type Dtype, type DtypeSpec } from "./dtypes.js";
import { DEFAULT_MODEL, isRepoId } from "./paths.js";
import { dtypesIn, findPulled, listPulled, missingFiles, readManifest } from "./store.js";

export interface ModelRequest {
  /** A model directory or a hub repo id; default DEFAULT_MODEL. */
  model?: string;
  dtype?: DtypeSpec;
  /** The models root (see modelsRoot). */
  root: string;
  /** Resolves relative directories. */
  cwd?: string;
  /** Precisions to try, best first, when `dtype` is not given. */
  preferred: Dtype[];
}

export interface ModelLocation {
  /** Absolute directory to load. */
  dir: string;
  /** The repo id, or the directory when it is not a pulled model. */
  id: string;
  /** The commit a pulled model came from. */
  revision?: string;
  spec: DtypeSpec;
  source: "pulled" | "directory";
}

export type ModelResolution =
  | { ok: true; location: ModelLocation }
  | {
      ok: false;
      /** The model as the user would name it. */
      model: string;
      reason: string;
      /** The command that fixes it, when there is one. */
      fix?: string;
    };

export function resolveModel(request: ModelRequest): ModelResolution {
  const model = request.model?.trim() || DEFAULT_MODEL;
  const dir = asDirectory(model, request.cwd ?? process.cwd());
  if (dir) return resolveDirectory(model, dir, request);
  if (isRepoId(model)) return resolvePulled(model, request);
  return { ok: false, model, reason: `'${model}' is neither a model directory nor a hub repo id (owner/name)` };
}

/** The pull command for a model and precision (flags only where they differ from the defaults). */
export function pullCommand(model: string, spec?: DtypeSpec): string {
  const parts = ["qwen-ocr models pull"];
  if (model !== DEFAULT_MODEL) parts.push(`--model ${model}`);
  if (spec) parts.push(`--dtype ${dtypeLabel(spec)}`);
  return parts.join(" ");
}

function asDirectory(model: string, cwd: string): string | undefined {
  const expanded = model === "~" || model.startsWith("~/") ? path.join(os.homedir(), model.slice(1)) : model;
  const explicit = path.isAbsolute(expanded) || /^\.{1,2}([/\\]|$)/.test(expanded) || expanded !== model;
  const resolved = path.resolve(cwd, expanded);
  if (explicit || isDir(resolved)) return resolved;
  return undefined;
}

function resolveDirectory(model: string, dir: string, request: ModelRequest): ModelResolution {
  if (!isDir(dir)) return { ok: false, model, reason: `model directory ${dir} does not exist` };
  if (!existsSync(path.join(dir, "config.json"))) {
    return { ok: false, model, reason: `${dir} is not a model directory (no config.json)` };
  }
  const manifest = readManifest(dir);
  const available = dtypesIn(dir);
  let spec: DtypeSpec | undefined;
  if (request.dtype) {
    const missing = missingFiles(dir, request.dtype);
    if (missing.length) {
      return {
        ok: false,
        model,
        reason: `${dir} has no ${dtypeLabel(request.dtype)} model (missing ${missing.join(", ")})${installed(available)}`,
      };
    }
    spec = request.dtype;
  } else {
    spec = pick(available, request.preferred) ?? (manifest ? manifest.spec : undefined);
    if (!spec || missingFiles(dir, spec).length) {
      return { ok: false, model, reason: `${dir} holds no complete set of ONNX files (embed_tokens, vision_encoder, decoder_model_merged)` };
    }
  }
  return {
    ok: true,
    location: {
      dir,
      id: manifest?.repo ?? dir,
      ...(manifest ? { revision: manifest.commit } : {}),
      spec,
      source: "directory",
    },
  };
}

function resolvePulled(repo: string, request: ModelRequest): ModelResolution {
  const pulled = listPulled(request.root, repo);
  const best = pick(pulled.map((p) => p.spec), request.preferred);
  const found = request.dtype
    ? findPulled(request.root, repo, request.dtype)
    : pulled.find((p) => best !== undefined && dtypeLabel(p.spec) === dtypeLabel(best));
  if (!found) {
    const what = request.dtype ? `${repo} (${dtypeLabel(request.dtype)})` : repo;
    return {
      ok: false,
      model: repo,
      reason: `model ${what} is not downloaded (looked in ${request.root})${installed(pulled.map((p) => p.spec))}`,
      fix: pullCommand(repo, request.dtype),
    };
  }
  return { ok: true, location: { dir: found.dir, id: repo, revision: found.commit, spec: found.spec, source: "pulled" } };
}

/** The first uniform precision in preference order among those available. */
function pick(available: DtypeSpec[], preferred: Dtype[]): DtypeSpec | undefined {
  for (const dtype of preferred) {
    const match = available.find((s) => dtypeLabel(s) === dtype);
    if (match) return match;
  }
  return available[0];
}

function installed(specs: DtypeSpec[]): string {
  return specs.length ? `; installed: ${specs.map(dtypeLabel).join(", ")}` : "";
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
