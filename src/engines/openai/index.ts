/**
 * The `openai` engine: pages read by a vision-language model behind an OpenAI-compatible
 * chat-completions API (vLLM or SGLang serving Qwen3-VL-2B-Instruct, for fleets and GPUs).
 * Nothing is contacted until the first page: `available()` only checks the settings.
 */
import type { Availability, Engine, EngineFactory, EngineOptions } from "../../types.js";
import { settingsFrom } from "./options.js";

export const openai: EngineFactory = {
  name: "openai",
  description: "a vision-language model on an OpenAI-compatible server (vLLM, SGLang) given by --base-url and --model",
  generative: true,

  async available(options: EngineOptions): Promise<Availability> {
    // Missing or malformed settings are usage errors (exit 2), thrown from here.
    settingsFrom(options);
    return { ok: true };
  },

  async load(options: EngineOptions): Promise<Engine> {
    const started = performance.now();
    const settings = settingsFrom(options);
    const { OpenAiEngine } = await import("./engine.js");
    return new OpenAiEngine(settings, Math.round(performance.now() - started));
  },
};
