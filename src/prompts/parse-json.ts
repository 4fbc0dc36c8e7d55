/**
 * JSON out of a model's answer, and checked against the template's schema. Small models wrap JSON
 * in code fences, put a sentence before or after it, leave trailing commas, or write comments; all
 * of that is forgiven. What cannot be repaired, or does not match the schema, is an error with a
 * stable code.
 */

export interface JsonAnswerError {
  /**
   * `no_json`: nothing that looks like JSON; `invalid_json`: JSON that does not parse even after
   * repairs (or is cut off); `schema_mismatch`: parses but breaks the schema; `invalid_schema`:
   * the template's own schema does not compile.
   */
  code: "no_json" | "invalid_json" | "schema_mismatch" | "invalid_schema";
  message: string;
}

export type JsonAnswer = { data: unknown } | { error: JsonAnswerError };

const FENCE = /```[ \t]*([\w-]*)[^\n]*\n([\s\S]*?)(?:```|$)/g;

/** The first JSON value in the text (fenced or not), parsed with repairs. */
export function extractJson(text: string): JsonAnswer {
  const source = text.replace(/^\uFEFF/, "");
  const candidates: string[] = [];
  for (const match of source.matchAll(FENCE)) {
    const lang = match[1].toLowerCase();
    if (!lang || lang === "json" || lang === "jsonc" || lang === "json5") candidates.push(match[2]);
  }
  candidates.push(source);

  let firstError: JsonAnswerError | undefined;
  for (const candidate of candidates) {
    const result = firstJsonValue(candidate);
    if ("data" in result) return result;
    firstError ??= result.error;
    if (result.error.code === "invalid_json") firstError = result.error;
  }
  return { error: firstError ?? { code: "no_json", message: "the answer holds no JSON object or array" } };
}

function firstJsonValue(text: string): JsonAnswer {
  let sawStart = false;
  let lastError: JsonAnswerError | undefined;
  for (let start = indexOfStart(text, 0); start >= 0; start = indexOfStart(text, start + 1)) {
    sawStart = true;
    const end = matchingEnd(text, start);
    if (end < 0) {
      lastError = { code: "invalid_json", message: "the JSON is cut off (unbalanced brackets): the answer may have hit the token limit" };
      break;
    }
    const raw = text.slice(start, end + 1);
    const parsed = tryParse(raw) ?? tryParse(repair(raw));
    if (parsed) return { data: parsed.value };
    lastError = { code: "invalid_json", message: `the JSON does not parse: ${parseMessage(repair(raw))}` };
    // A bracket in prose ("[see below]") is not the JSON: try the next opening bracket.
  }
  if (!sawStart) return { error: { code: "no_json", message: "the answer holds no JSON object or array" } };
  return { error: lastError! };
}

function indexOfStart(text: string, from: number): number {
  const brace = text.indexOf("{", from);
  const bracket = text.indexOf("[", from);
  if (brace < 0) return bracket;
  if (bracket < 0) return brace;
  return Math.min(brace, bracket);
}

/** Index of the bracket closing the one at `start`, skipping strings; -1 when it never closes. */
function matchingEnd(text: string, start: number): number {
  const stack: string[] = [];
  let quote: string | undefined;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"') quote = c;
    else if (c === "{") stack.push("}");
    else if (c === "[") stack.push("]");
    else if (c === "}" || c === "]") {
      if (stack.pop() !== c) return -1;
      if (!stack.length) return i;
    }
  }
  return -1;
}

function tryParse(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

function parseMessage(text: string): string {
  try {
    JSON.parse(text);
    return "unknown error";
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Repairs outside strings: drops // and /* *\/ comments and trailing commas, turns Python's
 * True/False/None into JSON, and typographic quotes used as JSON quotes into plain ones.
 */
function repair(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"' || c === "“" || c === "”") {
      inString = true;
      out += '"';
      // A string opened with a typographic quote closes with one.
      if (c !== '"') {
        const close = text.slice(i + 1).search(/[”“]/);
        if (close >= 0) {
          out += text.slice(i + 1, i + 1 + close).replace(/"/g, '\\"') + '"';
          i += close + 1;
          inString = false;
        }
      }
      continue;
    }
    if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
      continue;
    }
    if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 1;
      continue;
    }
    if (c === ",") {
      const rest = text.slice(i + 1).match(/^\s*([}\]])/);
      if (rest) continue;
    }
    const word = /^(True|False|None)\b/.exec(text.slice(i));
    if (word && !/[\w$]/.test(text[i - 1] ?? "")) {
      out += word[1] === "True" ? "true" : word[1] === "False" ? "false" : "null";
      i += word[1].length - 1;
      continue;
    }
    out += c;
  }
  return out;
}

interface Validator {
  (data: unknown): boolean;
  errors?: Array<{ instancePath: string; message?: string }> | null;
}

let ajvInstance: Promise<{ compile(schema: object): Validator }> | undefined;
const compiled = new WeakMap<object, Validator>();

async function validatorFor(schema: object): Promise<Validator> {
  const cached = compiled.get(schema);
  if (cached) return cached;
  ajvInstance ??= import("ajv").then(({ Ajv }) => new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }));
  const validate = (await ajvInstance).compile(schema);
  compiled.set(schema, validate);
  return validate;
}

/** Checks data against a JSON Schema (draft-07, as ajv reads it). */
export async function validateJson(data: unknown, schema: object): Promise<JsonAnswer> {
  let validate: Validator;
  try {
    validate = await validatorFor(schema);
  } catch (err) {
    return { error: { code: "invalid_schema", message: `the template's schema does not compile: ${err instanceof Error ? err.message : String(err)}` } };
  }
  if (validate(data)) return { data };
  const problems = (validate.errors ?? []).slice(0, 10).map((e) => `${e.instancePath || "(root)"} ${e.message ?? "is invalid"}`);
  return { error: { code: "schema_mismatch", message: `the JSON does not match the template's schema: ${problems.join("; ")}` } };
}

/** The answer's JSON, checked against `schema` when one is given. */
export async function parseJsonAnswer(text: string, schema?: object): Promise<JsonAnswer> {
  const extracted = extractJson(text);
  if ("error" in extracted || !schema) return extracted;
  return validateJson(extracted.data, schema);
}
