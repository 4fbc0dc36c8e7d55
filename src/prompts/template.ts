/**
 * Prompt templates: `prompts/<name>.md` files with YAML front matter and a body with `{{key}}`
 * placeholders. Parsing and rendering are pure; `index.ts` finds and reads the files.
 */
import { parse as parseYaml } from "yaml";
import { UsageError } from "../errors.js";
import { languageName, languageFromName } from "../language/names.js";

export const PROMPT_OUTPUTS = ["text", "markdown", "json"] as const;
export type PromptOutput = (typeof PROMPT_OUTPUTS)[number];

export interface PromptVariable {
  /** Used when `--var` does not give one; a variable without a default must be given. */
  default?: string;
  description?: string;
}

/** A template as its file declares it, before rendering. */
export interface PromptTemplate {
  name: string;
  description: string;
  output: PromptOutput;
  /** JSON Schema the answer must match (JSON outputs). */
  schema?: Record<string, unknown>;
  /** Engines the template suits (`qwen`, `openai`, `ppocr`); empty: any. */
  engines: string[];
  /** `language`: records read with this template are grouped by language by default. */
  groupBy?: "language";
  variables: Record<string, PromptVariable>;
  body: string;
  /** The file it came from. */
  path: string;
}

export interface RenderPromptOptions {
  /** Values for the `{{key}}` placeholders (`--var key=value`). */
  vars?: Record<string, string>;
  /** The page's expected languages (`ja,en`, or a list of tags or names); fills `{{lang_hint}}`. */
  langHint?: string | readonly string[];
}

/** A template rendered for use: what a generative engine is sent, and how to read its answer. */
export interface LoadedPrompt {
  name: string;
  description: string;
  output: PromptOutput;
  schema?: Record<string, unknown>;
  engines: string[];
  groupBy?: "language";
  /** The instruction, placeholders filled. */
  text: string;
  path: string;
  /** Non-fatal notes, e.g. a `--var` the template has no placeholder for. */
  warnings: string[];
}

const FRONT_MATTER = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)([\s\S]*)$/;
const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w-]*)\s*\}\}/g;
/** Placeholders every template may use without declaring them. */
const BUILT_IN: Record<string, PromptVariable> = { lang_hint: { default: "" } };

/** Parses a template file's text; throws a UsageError naming the file and the problem. */
export function parseTemplate(source: string, path: string): PromptTemplate {
  const fail = (problem: string): never => {
    throw new UsageError(`prompt template ${path}: ${problem}`);
  };
  const match = FRONT_MATTER.exec(source);
  if (!match) fail("no YAML front matter (the file must start with a line '---', the fields, and a closing '---')");
  let meta: unknown;
  try {
    meta = parseYaml(match![1]);
  } catch (err) {
    fail(`front matter is not valid YAML: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
  }
  if (!isRecord(meta)) return fail("front matter must be a YAML mapping");
  const m = meta;

  const fallbackName = path.replace(/^.*[\\/]/, "").replace(/\.md$/i, "");
  const name = m.name ?? fallbackName;
  if (typeof name !== "string" || !/^[\w.-]+$/.test(name)) fail(`"name" must be a word (letters, digits, - _ .), got ${JSON.stringify(name)}`);
  const description = m.description ?? "";
  if (typeof description !== "string") fail(`"description" must be a string`);
  const output = m.output ?? "text";
  if (typeof output !== "string" || !(PROMPT_OUTPUTS as readonly string[]).includes(output)) {
    fail(`"output" must be one of ${PROMPT_OUTPUTS.join(", ")}, got ${JSON.stringify(output)}`);
  }
  const schema = m.schema;
  if (schema !== undefined && !isRecord(schema)) fail(`"schema" must be a JSON Schema object`);
  if (output === "json" && schema === undefined) fail(`"output: json" needs a "schema"`);
  const engines = m.engines ?? [];
  if (!Array.isArray(engines) || !engines.every((e) => typeof e === "string")) fail(`"engines" must be a list of engine names`);
  const groupBy = m.groupBy ?? m.group_by;
  if (groupBy !== undefined && groupBy !== "language") fail(`"groupBy" can only be "language"`);
  const variables = parseVariables(m.variables, fail);

  const body = match![2].trim();
  if (!body) fail("the template body (after the front matter) is empty");
  for (const [, key] of body.matchAll(PLACEHOLDER)) {
    if (!(key in variables) && !(key in BUILT_IN)) variables[key] = {};
  }
  return {
    name: name as string,
    description: description as string,
    output: output as PromptOutput,
    ...(schema !== undefined ? { schema: schema as Record<string, unknown> } : {}),
    engines: engines as string[],
    ...(groupBy ? { groupBy: "language" as const } : {}),
    variables,
    body,
    path,
  };
}

function parseVariables(value: unknown, fail: (problem: string) => never): Record<string, PromptVariable> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) return fail(`"variables" must be a mapping of name to default (or to {default, description})`);
  const out: Record<string, PromptVariable> = {};
  for (const [key, spec] of Object.entries(value)) {
    if (!/^[A-Za-z_][\w-]*$/.test(key)) fail(`variable name ${JSON.stringify(key)} is not a word`);
    if (typeof spec === "string" || typeof spec === "number" || typeof spec === "boolean") out[key] = { default: String(spec) };
    else if (spec === null) out[key] = {};
    else if (isRecord(spec)) {
      const { default: def, description } = spec;
      if (def !== undefined && def !== null && typeof def === "object") fail(`variable ${key}: "default" must be a string`);
      if (description !== undefined && typeof description !== "string") fail(`variable ${key}: "description" must be a string`);
      out[key] = {
        ...(def !== undefined && def !== null ? { default: String(def) } : {}),
        ...(description !== undefined ? { description: description as string } : {}),
      };
    } else fail(`variable ${key}: expected a default value or {default, description}`);
  }
  return out;
}

/**
 * Fills the template's placeholders: `--var` values first, then defaults; `{{lang_hint}}` from
 * `langHint`. A placeholder with neither value nor default is a UsageError naming the `--var` to add.
 */
export function renderTemplate(template: PromptTemplate, options: RenderPromptOptions = {}): LoadedPrompt {
  const vars = options.vars ?? {};
  const warnings: string[] = [];
  const declared = { ...BUILT_IN, ...template.variables };
  for (const key of Object.keys(vars)) {
    if (!(key in declared)) {
      warnings.push(`prompt ${template.name} has no variable "${key}" (its variables: ${Object.keys(declared).join(", ")}); --var ${key} ignored`);
    }
  }
  const hint = options.langHint !== undefined ? langHintSentence(options.langHint) : undefined;
  const missing = new Set<string>();
  const text = template.body.replace(PLACEHOLDER, (_, key: string) => {
    if (key === "lang_hint" && vars.lang_hint === undefined && hint !== undefined) return hint;
    const value = vars[key] ?? declared[key]?.default;
    if (value === undefined) {
      missing.add(key);
      return "";
    }
    return value;
  });
  if (missing.size) {
    const keys = [...missing];
    throw new UsageError(
      `prompt ${template.name} needs a value for ${keys.map((k) => `{{${k}}}`).join(", ")}: pass ${keys.map((k) => `--var ${k}=VALUE`).join(" ")}`,
    );
  }
  return {
    name: template.name,
    description: template.description,
    output: template.output,
    ...(template.schema ? { schema: template.schema } : {}),
    engines: template.engines,
    ...(template.groupBy ? { groupBy: template.groupBy } : {}),
    text: tidy(text),
    path: template.path,
    warnings,
  };
}

/** "ja,en" → "The text in the image is in Japanese and English." */
export function langHintSentence(hint: string | readonly string[]): string {
  const items = (typeof hint === "string" ? hint.split(/[,;\s]+/) : [...hint]).map((s) => s.trim()).filter(Boolean);
  if (!items.length) return "";
  const names = items.map((item) => {
    const lang = languageFromName(item) ?? item;
    return languageName(lang, "english");
  });
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  return `The text in the image is in ${list}.`;
}

/** Blank lines left by empty placeholders go; the instruction keeps its own paragraphs. */
function tidy(text: string): string {
  return text
    .split("\n")
    .map((l) => l.replace(/[ \t]+$/, ""))
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
