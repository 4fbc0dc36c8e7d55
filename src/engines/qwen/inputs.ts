/**
 * Model inputs for one page: the chat template with the image and the prompt, the tokens, and the
 * image patches. The fast path computes the patches itself (see patchify) and tokenizes the
 * template with the image tokens expanded, exactly as Qwen2VLProcessor does; any image-processor
 * setting it does not reproduce sends the page through the processor instead.
 */
import type { RgbImage } from "../../types.js";
import { patchify, type PatchConfig } from "./image.js";
import type { ImageProcessorLike, Loaded, ProcessorOutput } from "./runtime.js";

const IMAGE_TOKEN = "<|image_pad|>";

/**
 * The model's chat template with the page image and the prompt. A model directory whose tokenizer
 * config carries no template (transformers.js reads it only from there for Qwen-VL) gets what
 * Qwen3-VL's template renders for one user turn.
 */
export function chatText(loaded: Loaded, prompt: string): string {
  try {
    return loaded.processor.apply_chat_template(
      [{ role: "user", content: [{ type: "image" }, { type: "text", text: prompt }] }],
      { add_generation_prompt: true },
    );
  } catch (err) {
    if (!/chat.?template/i.test(err instanceof Error ? err.message : String(err))) throw err;
    return `<|im_start|>user\n<|vision_start|>${IMAGE_TOKEN}<|vision_end|>${prompt}<|im_end|>\n<|im_start|>assistant\n`;
  }
}

/** Through transformers.js' processor (image processor + tokenizer). */
export function processorInputs(loaded: Loaded, image: RgbImage, prompt: string): Promise<ProcessorOutput> {
  return loaded.processor(chatText(loaded, prompt), loaded.makeImage(image.data, image.width, image.height));
}

/** The same inputs without transformers.js' slow image path; undefined when it cannot reproduce the processor. */
export function fastInputs(loaded: Loaded, image: RgbImage, prompt: string): ProcessorOutput | undefined {
  const config = patchConfig(loaded.processor.image_processor);
  const text = chatText(loaded, prompt);
  if (!config || text.split(IMAGE_TOKEN).length !== 2) return undefined;
  const side = config.patchSize * config.mergeSize;
  if (image.width % side || image.height % side) return undefined;
  const patches = patchify(image, config);
  const imageTokens = patches.rows / (config.mergeSize * config.mergeSize);
  const tokens = loaded.processor.tokenizer(text.replace(IMAGE_TOKEN, IMAGE_TOKEN.repeat(imageTokens)));
  return {
    input_ids: tokens.input_ids,
    attention_mask: tokens.attention_mask,
    pixel_values: loaded.makeTensor("float32", patches.data, [patches.rows, patches.cols]),
    image_grid_thw: loaded.makeTensor("int64", BigInt64Array.from(patches.grid.map(BigInt)), [1, 3]),
  };
}

function patchConfig(p: ImageProcessorLike): PatchConfig | undefined {
  const { patch_size, merge_size, temporal_patch_size } = p.config;
  const mean = triple(p.image_mean);
  const std = triple(p.image_std);
  const unusual = p.do_convert_grayscale || p.do_crop_margin || p.do_thumbnail || p.do_center_crop || p.do_pad || p.do_flip_channel_order;
  if (unusual || !patch_size || !merge_size || !temporal_patch_size || p.do_rescale === false || p.do_normalize !== true || !mean || !std) {
    return undefined;
  }
  return {
    patchSize: patch_size,
    mergeSize: merge_size,
    temporalPatchSize: temporal_patch_size,
    rescale: p.rescale_factor ?? 1 / 255,
    mean,
    std,
  };
}

function triple(value: number | number[] | undefined): number[] | undefined {
  if (typeof value === "number") return [value, value, value];
  return Array.isArray(value) && value.length === 3 ? value : undefined;
}
