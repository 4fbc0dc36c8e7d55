import { pathToFileURL } from "node:url";
import path from "node:path";
import { UsageError } from "../errors.js";
import { ExitCode, type EngineFactory, type EngineOptions } from "../types.js";

/**
 * Built-in engines, imported only when asked for: each one pulls in onnxruntime or transformers,
 * which must stay out of `qwen-ocr --help`.
 */
const builtins: Record<string, () => Promise<EngineFactory>> = {
  qwen: async () => (await import("./qwen/index.js")).qwen,
  ppocr: async () => (await import("./ppocr/index.js")).ppocr,
  openai: async () => (await import("./openai/index.js")).openai,
};

const registered = new Map<string, EngineFactory>();

/** Adds an engine (a plugin's, or a test's fake one). A later registration replaces an earlier one. */
export function registerEngine(factory: EngineFactory): void {
  registered.set(factory.name, factory);
}

export function engineNames(): string[] {
  return [...new Set([...Object.keys(builtins), ...registered.keys()])].sort();
}

export async function getEngineFactory(name: string): Promise<EngineFactory> {
  const found = registered.get(name);
  if (found) return found;
  const builtin = builtins[name];
  if (builtin) return builtin();
  throw new UsageError(`unknown engine '${name}' (available: auto, ${engineNames().join(", ")})`);
}

/**
 * `auto` picks the first engine in this order that reports itself available: qwen when its model
 * is on disk (or `--model DIR` names one), else ppocr.
 */
const autoOrder = ["qwen", "ppocr"];

export interface ResolvedEngine {
  factory: EngineFactory;
  /** Why `auto` did not pick a preferred engine, to show the user once. */
  note?: string;
}

export async function resolveEngine(name: string, options: EngineOptions): Promise<ResolvedEngine> {
  if (name !== "auto") {
    // An engine asked for by name must be there before any input is looked at: a CI job with
    // no model should hear "missing model" (exit 3), not one error per input.
    const factory = await getEngineFactory(name);
    const availability = await factory.available(options);
    if (!availability.ok) throw new UsageError(`${name}: ${availability.reason ?? "not available"}`, ExitCode.ModelMissing);
    return { factory };
  }
  const skipped: string[] = [];
  for (const candidate of autoOrder) {
    const factory = await getEngineFactory(candidate);
    const availability = await factory.available(options);
    if (availability.ok) {
      return { factory, note: skipped.length ? `${skipped.join("; ")}; using ${candidate}` : undefined };
    }
    skipped.push(`${candidate}: ${availability.reason ?? "not available"}`);
  }
  throw new UsageError(`no engine is available (${skipped.join("; ")})`, ExitCode.ModelMissing);
}

/**
 * Loads a plugin module that registers engines: its default export (or named `engines`) is an
 * EngineFactory or an array of them. This is how third-party engines, and the fake engines the
 * tests use to crash, hang and return nothing on demand, reach the CLI.
 */
export async function loadPlugin(specifier: string, cwd = process.cwd()): Promise<EngineFactory[]> {
  const url = /^[./]/.test(specifier) || path.isAbsolute(specifier)
    ? pathToFileURL(path.resolve(cwd, specifier)).href
    : specifier;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`cannot load plugin '${specifier}': ${(err as Error).message}`);
  }
  const exported = mod.engines ?? mod.default;
  const list = Array.isArray(exported) ? exported : [exported];
  const factories = list.filter(isEngineFactory);
  if (factories.length === 0) {
    throw new UsageError(`plugin '${specifier}' exports no engine (expected an EngineFactory as default export or 'engines')`);
  }
  factories.forEach(registerEngine);
  return factories;
}

function isEngineFactory(value: unknown): value is EngineFactory {
  const v = value as Partial<EngineFactory> | null;
  return !!v && typeof v.name === "string" && typeof v.load === "function" && typeof v.available === "function";
}
