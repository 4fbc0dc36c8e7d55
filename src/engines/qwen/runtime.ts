/**
 * The slice of transformers.js the qwen engine uses, with narrow types of its own (the library's
 * generated typings are loose). Importing this module loads transformers.js and onnxruntime-node:
 * only engine.ts does, from load().
 */
import path from "node:path";
import * as transformers from "@huggingface/transformers";
import type { Dtype, DtypeSpec } from "../../models/dtypes.js";

export interface TensorLike {
  dims: number[];
  data: ArrayLike<number | bigint>;
  type: string;
}

export interface TokenizerLike {
  (text: string): { input_ids: TensorLike; attention_mask: TensorLike };
  decode(ids: bigint[], options?: { skip_special_tokens?: boolean }): string;
  all_special_ids: number[];
}

export interface ImageProcessorLike {
  min_pixels?: number;
  max_pixels?: number;
  do_rescale?: boolean;
  rescale_factor?: number;
  do_normalize?: boolean;
  image_mean?: number | number[];
  image_std?: number | number[];
  do_convert_grayscale?: boolean;
  do_crop_margin?: boolean;
  do_thumbnail?: boolean;
  do_center_crop?: boolean;
  do_pad?: boolean;
  do_flip_channel_order?: boolean;
  config: { patch_size?: number; merge_size?: number; temporal_patch_size?: number };
}

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: Array<{ type: "image" } | { type: "text"; text: string }>;
}

export interface ProcessorOutput {
  input_ids: TensorLike;
  attention_mask: TensorLike;
  pixel_values: TensorLike;
  image_grid_thw: TensorLike;
}

export interface ProcessorLike {
  (text: string, images: unknown): Promise<ProcessorOutput>;
  apply_chat_template(messages: ChatMessage[], options: { add_generation_prompt: boolean }): string;
  tokenizer: TokenizerLike;
  image_processor: ImageProcessorLike;
}

export interface Streamer {
  put(value: bigint[][]): void;
  end(): void;
}

export type StoppingCriterion = (inputIds: bigint[][]) => boolean[];

export interface GenerateOptions extends ProcessorOutput {
  max_new_tokens: number;
  do_sample: boolean;
  no_repeat_ngram_size?: number;
  streamer?: Streamer;
  stopping_criteria?: StoppingCriterion[];
}

export interface VisionLanguageModel {
  generate(options: GenerateOptions): Promise<TensorLike>;
  encode_image(inputs: unknown): Promise<unknown>;
  dispose(): Promise<unknown>;
  generation_config: { eos_token_id?: number | number[] | null; repetition_penalty?: number | null } | null;
  config: { eos_token_id?: number | number[] };
}

export interface LoadOptions {
  dir: string;
  dtype: Dtype | DtypeSpec;
  device: string;
  threads?: number;
  /** transformers.js' cache directory (never used for local loads, but kept out of node_modules). */
  cacheDir: string;
  /** For repo-id-shaped names (never used: qwen-ocr always passes absolute directories). */
  localModelPath: string;
}

export interface Loaded {
  processor: ProcessorLike;
  model: VisionLanguageModel;
  makeImage(data: Uint8Array, width: number, height: number): unknown;
  makeTensor(type: "float32", data: Float32Array, dims: number[]): TensorLike;
  makeTensor(type: "int64", data: BigInt64Array, dims: number[]): TensorLike;
}

/** Locks transformers.js to local files: it must never try the hub at run time. */
function configureEnv(options: LoadOptions): void {
  const { env } = transformers;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = options.localModelPath;
  env.cacheDir = options.cacheDir;
  env.logLevel = transformers.LogLevel.ERROR;
}

export async function loadModel(options: LoadOptions): Promise<Loaded> {
  if (!path.isAbsolute(options.dir)) throw new Error(`model directory must be absolute: ${options.dir}`);
  configureEnv(options);
  const sessionOptions = options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {};
  const [processor, model] = await Promise.all([
    transformers.AutoProcessor.from_pretrained(options.dir, { local_files_only: true }) as unknown as Promise<ProcessorLike>,
    transformers.Qwen3VLForConditionalGeneration.from_pretrained(options.dir, {
      local_files_only: true,
      dtype: options.dtype,
      device: options.device as "cpu",
      session_options: sessionOptions,
    }) as unknown as Promise<VisionLanguageModel>,
  ]);
  const { RawImage, Tensor } = transformers;
  return {
    processor,
    model,
    makeImage: (data, width, height) =>
      new RawImage(new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength), width, height, 3),
    makeTensor: (type: "float32" | "int64", data: Float32Array | BigInt64Array, dims: number[]) =>
      new Tensor(type, data, dims) as unknown as TensorLike,
  };
}
