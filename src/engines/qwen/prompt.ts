import type { Prompt } from "../../types.js";

/** Qwen's own full-text OCR instruction, used when no prompt template is given. */
export const DEFAULT_PROMPT: Prompt = {
  name: "plain",
  text: "Read all the text in the image. Output only the text content from the image without any additional descriptions or formatting.",
};
