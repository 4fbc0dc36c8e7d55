import { readFile } from "node:fs/promises";
import { findTemplate, listPrompts } from "../prompts/index.js";
import { ExitCode } from "../types.js";
import type { CliIO } from "./io.js";

/** `qwen-ocr prompts list`: the templates, one per line, or as JSON. */
export async function runPromptsList(flags: { json?: boolean }, io: CliIO): Promise<number> {
  const prompts = await listPrompts();
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(prompts, null, 2)}\n`);
    return ExitCode.Ok;
  }
  const width = Math.max(...prompts.map((p) => p.name.length));
  for (const p of prompts) {
    const engines = p.engines.length ? ` [${p.engines.join(", ")}]` : "";
    io.stdout.write(`${p.name.padEnd(width)}  ${p.output.padEnd(8)}  ${p.description}${engines}\n`);
  }
  return ExitCode.Ok;
}

/** `qwen-ocr prompts show NAME|FILE`: the template file as it is, front matter included. */
export async function runPromptsShow(name: string, io: CliIO): Promise<number> {
  const template = await findTemplate(name);
  io.stdout.write(await readFile(template.path, "utf8"));
  return ExitCode.Ok;
}
