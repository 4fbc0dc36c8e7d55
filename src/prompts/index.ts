/**
 * The prompt template library: the templates shipped in `prompts/` (and any directories the caller
 * adds), found by name, or a template file given by path.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../errors.js";
import { parseTemplate, renderTemplate, type LoadedPrompt, type PromptOutput, type PromptTemplate, type RenderPromptOptions } from "./template.js";

export {
  langHintSentence,
  parseTemplate,
  PROMPT_OUTPUTS,
  renderTemplate,
  type LoadedPrompt,
  type PromptOutput,
  type PromptTemplate,
  type PromptVariable,
  type RenderPromptOptions,
} from "./template.js";
export { parseJsonAnswer, extractJson, validateJson, type JsonAnswer, type JsonAnswerError } from "./parse-json.js";
export { parseGroupedAnswer, groupsFromAnswer, type ParsedGroup, type AnswerGroups } from "./grouped.js";

/** The templates shipped with qwen-ocr: `prompts/` at the package root (beside `dist/` and `src/`). */
export const BUILT_IN_PROMPTS_DIR = fileURLToPath(new URL("../../prompts/", import.meta.url));

/** The template used when none is named. */
export const DEFAULT_PROMPT = "plain";

export interface PromptSearch {
  /** Directories searched before the built-in one (e.g. a user's own templates). */
  dirs?: readonly string[];
}

export interface PromptSummary {
  name: string;
  description: string;
  output: PromptOutput;
  engines: string[];
  groupBy?: "language";
  /** Placeholders and their defaults (`null`: must be given with `--var`). */
  variables: Record<string, string | null>;
  path: string;
}

/** Every template, by name (a template in an earlier directory hides a built-in of the same name), sorted by name. */
export async function listPrompts(search: PromptSearch = {}): Promise<PromptSummary[]> {
  const found = new Map<string, PromptSummary>();
  for (const dir of [...(search.dirs ?? []), BUILT_IN_PROMPTS_DIR]) {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith(".md") && !n.startsWith(".")).sort();
    } catch {
      continue;
    }
    for (const file of names) {
      const template = await readTemplate(path.join(dir, file));
      if (found.has(template.name)) continue;
      found.set(template.name, {
        name: template.name,
        description: template.description,
        output: template.output,
        engines: template.engines,
        ...(template.groupBy ? { groupBy: template.groupBy } : {}),
        variables: Object.fromEntries(Object.entries(template.variables).map(([k, v]) => [k, v.default ?? null])),
        path: template.path,
      });
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * A template by name (`invoice`) or by path (`./my-prompt.md`, anything with a slash or ending in
 * `.md`), rendered with `vars` and `langHint`. Throws a UsageError for an unknown name (listing
 * the known ones), a malformed file, or a placeholder with no value and no default.
 */
export async function loadPrompt(nameOrPath: string, options: RenderPromptOptions & PromptSearch = {}): Promise<LoadedPrompt> {
  return renderTemplate(await findTemplate(nameOrPath, options), options);
}

/** The template itself, unrendered. */
export async function findTemplate(nameOrPath: string, search: PromptSearch = {}): Promise<PromptTemplate> {
  if (/[\\/]/.test(nameOrPath) || nameOrPath.toLowerCase().endsWith(".md")) return readTemplate(path.resolve(nameOrPath));
  if (!/^[\w.-]+$/.test(nameOrPath)) throw new UsageError(`unknown prompt "${nameOrPath}"`);
  for (const dir of [...(search.dirs ?? []), BUILT_IN_PROMPTS_DIR]) {
    const file = path.join(dir, `${nameOrPath}.md`);
    const source = await readFile(file, "utf8").catch(() => undefined);
    if (source !== undefined) return parseTemplate(source, file);
  }
  // The file name is the usual key, but a template may declare another name.
  const all = await listPrompts(search);
  const byName = all.find((p) => p.name === nameOrPath);
  if (byName) return readTemplate(byName.path);
  throw new UsageError(`unknown prompt "${nameOrPath}" (known: ${all.map((p) => p.name).join(", ")}; or give a path to a .md template)`);
}

async function readTemplate(file: string): Promise<PromptTemplate> {
  let source: string;
  try {
    source = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`prompt template ${file}: ${code === "ENOENT" ? "no such file" : `cannot read it (${code ?? String(err)})`}`);
  }
  return parseTemplate(source, file);
}
