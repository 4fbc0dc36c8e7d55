/**
 * Model precisions ("dtypes") and the files each needs. File naming follows transformers.js and the
 * onnx-community exports: `onnx/<session><suffix>.onnx`, with external weights beside it in
 * `<session><suffix>.onnx_data`, `…onnx_data_1`, ….
 */
import { UsageError } from "../errors.js";

export const DTYPES = ["q4f16", "q4", "fp16", "fp32"] as const;
export type Dtype = (typeof DTYPES)[number];

export const SUFFIX: Record<Dtype, string> = { fp32: "", fp16: "_fp16", q4: "_q4", q4f16: "_q4f16" };

/** The three ONNX sessions of a Qwen-VL export, in the order transformers.js names them. */
export const SESSIONS = ["embed_tokens", "vision_encoder", "decoder_model_merged"] as const;
export type Session = (typeof SESSIONS)[number];

/** Which precision each session runs in. */
export type DtypeSpec = Record<Session, Dtype>;

const ALIASES: Record<string, Session> = {
  embed: "embed_tokens",
  embed_tokens: "embed_tokens",
  vision: "vision_encoder",
  vision_encoder: "vision_encoder",
  decoder: "decoder_model_merged",
  decoder_model_merged: "decoder_model_merged",
};

export function isDtype(value: string): value is Dtype {
  return (DTYPES as readonly string[]).includes(value);
}

export function uniform(dtype: Dtype): DtypeSpec {
  return { embed_tokens: dtype, vision_encoder: dtype, decoder_model_merged: dtype };
}

/**
 * Parses `--dtype`: one precision for all sessions (`q4f16`), or per session
 * (`decoder=q4f16,vision=fp16,embed=fp16`; sessions left out take the decoder's).
 * embed_tokens and vision_encoder must agree: transformers.js writes the image features into the
 * token embeddings in place, and a float32/float16 mix silently corrupts them.
 */
export function parseDtype(value: string): DtypeSpec {
  const text = value.trim();
  if (!text.includes("=")) {
    if (!isDtype(text)) throw new UsageError(`unknown dtype '${value}' (expected one of ${DTYPES.join(", ")})`);
    return uniform(text);
  }
  const parts: Partial<DtypeSpec> = {};
  for (const pair of text.split(",")) {
    const [key, dtype] = pair.split("=").map((s) => s.trim());
    const session = ALIASES[key ?? ""];
    if (!session) throw new UsageError(`unknown model part '${key}' in --dtype (expected embed, vision or decoder)`);
    if (!dtype || !isDtype(dtype)) throw new UsageError(`unknown dtype '${dtype ?? ""}' for ${key} (expected one of ${DTYPES.join(", ")})`);
    parts[session] = dtype;
  }
  const base = parts.decoder_model_merged ?? parts.vision_encoder ?? parts.embed_tokens!;
  const spec: DtypeSpec = {
    embed_tokens: parts.embed_tokens ?? parts.vision_encoder ?? base,
    vision_encoder: parts.vision_encoder ?? parts.embed_tokens ?? base,
    decoder_model_merged: parts.decoder_model_merged ?? base,
  };
  checkSpec(spec);
  return spec;
}

export function checkSpec(spec: DtypeSpec): void {
  if (spec.embed_tokens !== spec.vision_encoder) {
    throw new UsageError(
      `embed_tokens (${spec.embed_tokens}) and vision_encoder (${spec.vision_encoder}) must use the same dtype: ` +
        "mixing them silently corrupts the image features",
    );
  }
}

/** `q4f16` when all sessions agree, else `decoder=…,vision=…` (embed always equals vision). */
export function dtypeLabel(spec: DtypeSpec): string {
  const { embed_tokens, vision_encoder, decoder_model_merged } = spec;
  if (embed_tokens === vision_encoder && vision_encoder === decoder_model_merged) return decoder_model_merged;
  return `decoder=${decoder_model_merged},vision=${vision_encoder}`;
}

/** For transformers.js: a plain string when uniform, else the per-session map. */
export function transformersDtype(spec: DtypeSpec): Dtype | DtypeSpec {
  const label = dtypeLabel(spec);
  return isDtype(label) ? label : { ...spec };
}

/** `onnx/<session><suffix>.onnx` for each session. */
export function onnxFiles(spec: DtypeSpec): string[] {
  return SESSIONS.map((s) => `onnx/${s}${SUFFIX[spec[s]]}.onnx`);
}

/** Whether a repo path is one of the ONNX files (or their external data) this spec needs. */
export function isSpecFile(repoPath: string, spec: DtypeSpec): boolean {
  return onnxFiles(spec).some((file) => repoPath === file || new RegExp(`^${escape(file)}_data(_\\d+)?$`).test(repoPath));
}

/** Root-level configuration, tokenizer and processor files every model directory needs. */
export function isConfigFile(repoPath: string): boolean {
  return !repoPath.includes("/") && /\.(json|jinja|txt)$/i.test(repoPath);
}

/**
 * Precisions in order of preference when none is asked for. On CPU, q4 (4-bit weights, float32
 * activations) avoids the float16 casts ONNX Runtime's CPU kernels would insert for q4f16; GPUs
 * prefer q4f16.
 */
export function preferredDtypes(device: string): Dtype[] {
  return device === "cpu" ? ["q4", "q4f16", "fp32", "fp16"] : ["q4f16", "fp16", "q4", "fp32"];
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
