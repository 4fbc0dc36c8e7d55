/**
 * Where models live. The cache home is env-paths' user cache (`~/.cache/qwen-ocr` on Linux,
 * `~/Library/Caches/qwen-ocr` on macOS, `%LOCALAPPDATA%\qwen-ocr\Cache` on Windows), or
 * `$QWEN_OCR_HOME`. Models go to `<home>/models` unless `--model-dir` names another directory:
 *
 *   <models>/<owner>--<name>/<dtype>/            one complete model directory per precision
 *   <models>/<owner>--<name>/<dtype>/qwen-ocr-model.json   the manifest: present only when complete
 *   <models>/<owner>--<name>/.<dtype>.partial/    an unfinished download (resumed by the next pull)
 */
import path from "node:path";
import envPaths from "env-paths";

export const DEFAULT_MODEL = "onnx-community/Qwen3-VL-2B-Instruct-ONNX";
export const DEFAULT_REVISION = "main";
export const MANIFEST = "qwen-ocr-model.json";

export interface HomeOptions {
  /** `--model-dir`: the models directory itself. */
  modelDir?: string;
  /** Environment to read QWEN_OCR_HOME from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Resolves a relative `modelDir` (default: process.cwd()). */
  cwd?: string;
}

/** The cache home: `$QWEN_OCR_HOME`, else the user cache directory. */
export function cacheHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = env.QWEN_OCR_HOME;
  return home ? path.resolve(home) : envPaths("qwen-ocr", { suffix: "" }).cache;
}

/** The directory holding pulled models. */
export function modelsRoot(options: HomeOptions = {}): string {
  if (options.modelDir) return path.resolve(options.cwd ?? process.cwd(), options.modelDir);
  return path.join(cacheHome(options.env), "models");
}

/** A hub repo id: `owner/name` (letters, digits, `-`, `_`, `.`). */
export function isRepoId(value: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value) && !value.includes("..");
}

export function repoSlug(repo: string): string {
  return repo.replace("/", "--");
}

export function slugRepo(slug: string): string {
  return slug.replace("--", "/");
}

/** The complete model directory of a repo in one precision (label from dtypeLabel). */
export function pulledDir(root: string, repo: string, label: string): string {
  return path.join(root, repoSlug(repo), safeLabel(label));
}

/** Where an unfinished download of that directory lives. */
export function stagingDir(root: string, repo: string, label: string): string {
  return path.join(root, repoSlug(repo), `.${safeLabel(label)}.partial`);
}

function safeLabel(label: string): string {
  return label.replace(/[^A-Za-z0-9_.=-]/g, "+");
}
