/**
 * qwen-ocr as a library: the same pipeline the CLI runs.
 *
 * ```ts
 * import { scan } from "qwen-ocr";
 * for await (const page of scan(["invoice.pdf"], { engine: "ppocr" })) console.log(page.text);
 * ```
 */
export { scan, type ScanOptions, type ApiEvent } from "./api.js";
export { registerEngine, getEngineFactory, engineNames, loadPlugin } from "./engines/registry.js";
export { toDocument } from "./output/document.js";
export { createFormatter, FORMATS, type Format, type Formatter } from "./output/format.js";
export { parsePageSelection, type PageSelection } from "./pages/index.js";
export { OcrError, UsageError } from "./errors.js";
export { detectLanguage, detectLanguages, groupByLanguage, annotate, languageName, type LineLanguage } from "./language/index.js";
export { renderGroupsText, renderGroupsMarkdown } from "./language/render.js";
export { listPrompts, loadPrompt, parseJsonAnswer, type LoadedPrompt, type PromptSummary } from "./prompts/index.js";
export * from "./types.js";
