/**
 * Writes a tiny Qwen3-VL-shaped model directory that transformers.js 4.3.1 loads and runs through
 * the same path as the real `onnx-community/Qwen3-VL-2B-Instruct-ONNX` (AutoProcessor,
 * Qwen3VLForConditionalGeneration, chat template, M-RoPE position ids, KV cache, generate).
 *
 * Nothing here is committed output: tests call `buildQwenFixture(dir)` into a temp directory.
 * By hand: `npx tsx scripts/make-fixture-model.ts [DIR]` (default test/.tmp/qwen-fixture).
 *
 * The graphs have no weights; their logic is arithmetic on the inputs:
 * - embed_tokens: channel 0 = min(token id, 1000); the rest 0.
 * - vision_encoder: one row per merged 32x32 token (4 patch rows): channel 1 = mean normalised
 *   brightness of its pixels, channel 2 = 1 (the "image" flag). The row count is computed from
 *   image_grid_thw, so a grid that does not match the pixels fails.
 * - decoder_model_merged: appends one cache row per new token (embeds[:8] + prompt flag in channel
 *   3 + temporal position mod 1024 in channel 4), then reads the whole cache to pick the next token:
 *     no image features            -> "Fixture OCR: no image"
 *     mean brightness > 0.1        -> "Fixture OCR: LIGHT image\nfixture line 2"
 *     mean brightness < -0.1       -> "Fixture OCR: DARK image\nfixture line 2"
 *     |mean| <= 0.1 (half and half) -> " la la la ..." forever (a repetition loop)
 *     a '?' in the prompt          -> "Fixture OCR: question"
 *   and emits "!" instead when a self-check fails: the attention mask must cover exactly the
 *   cache (length and ones), the prefill must start at position 0 and carry 3-D (M-RoPE) positions
 *   for image tokens, and each decode step must sit at the previous position + 1.
 * Every dtype variant (fp32, fp16, q4, q4f16) has the same logic; fp16/q4f16 have float16 edges
 * (embeddings, image features, KV cache, logits) like the real exports.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import onnxProto from "onnx-proto";
import type { onnx as OnnxTypes } from "onnx-proto";

const { onnx } = onnxProto;
type INode = OnnxTypes.INodeProto;
type ITensor = OnnxTypes.ITensorProto;
type IValueInfo = OnnxTypes.IValueInfoProto;
type IAttribute = OnnxTypes.IAttributeProto;

export const FIXTURE_REPO = "qwen-ocr-fixtures/Tiny-Qwen3-VL-ONNX";
export const FIXTURE_DTYPES = ["fp32", "fp16", "q4", "q4f16"] as const;
export type FixtureDtype = (typeof FIXTURE_DTYPES)[number];
const SUFFIX: Record<FixtureDtype, string> = { fp32: "", fp16: "_fp16", q4: "_q4", q4f16: "_q4f16" };
const HALF: Record<FixtureDtype, boolean> = { fp32: false, fp16: true, q4: false, q4f16: true };

const VOCAB_SIZE = 151936;
const HIDDEN = 16;
const HEAD_DIM = 8;
const LAYERS = 2;
const TABLE_LEN = 48;

/** The real Qwen2/Qwen3 special tokens and ids. */
export const SPECIAL_TOKENS: Array<[number, string]> = [
  [151643, "<|endoftext|>"],
  [151644, "<|im_start|>"],
  [151645, "<|im_end|>"],
  [151646, "<|object_ref_start|>"],
  [151647, "<|object_ref_end|>"],
  [151648, "<|box_start|>"],
  [151649, "<|box_end|>"],
  [151650, "<|quad_start|>"],
  [151651, "<|quad_end|>"],
  [151652, "<|vision_start|>"],
  [151653, "<|vision_end|>"],
  [151654, "<|vision_pad|>"],
  [151655, "<|image_pad|>"],
  [151656, "<|video_pad|>"],
];
const IM_END = 151645;

/** What the fixture answers, by image class. */
export const FIXTURE_TEXTS = {
  dark: "Fixture OCR: DARK image\nfixture line 2",
  light: "Fixture OCR: LIGHT image\nfixture line 2",
  none: "Fixture OCR: no image",
  loop: " la",
  question: "Fixture OCR: question",
} as const;

/** A Qwen3-VL-style chat template (no default system turn; images as vision_start/image_pad/vision_end). */
export const CHAT_TEMPLATE =
  "{%- set image_count = namespace(value=0) -%}" +
  "{%- for message in messages -%}" +
  "{{- '<|im_start|>' + message['role'] + '\\n' -}}" +
  "{%- if message['content'] is string -%}{{- message['content'] -}}" +
  "{%- else -%}{%- for content in message['content'] -%}" +
  "{%- if content['type'] == 'image' or 'image' in content or 'image_url' in content -%}" +
  "{%- set image_count.value = image_count.value + 1 -%}" +
  "{%- if add_vision_id -%}{{- 'Picture ' + image_count.value|string + ': ' -}}{%- endif -%}" +
  "{{- '<|vision_start|><|image_pad|><|vision_end|>' -}}" +
  "{%- elif 'text' in content -%}{{- content['text'] -}}{%- endif -%}" +
  "{%- endfor -%}{%- endif -%}" +
  "{{- '<|im_end|>\\n' -}}" +
  "{%- endfor -%}" +
  "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}";

/** GPT-2's byte-to-unicode table, in the order Qwen's vocabulary numbers its 256 byte tokens. */
function byteLevelAlphabet(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const byByte: string[] = new Array(256);
  bs.forEach((b, i) => (byByte[b] = String.fromCodePoint(cs[i])));
  // Token id = position in the bs list (ids 0..255, as in Qwen's vocab).
  return bs.map((b) => byByte[b]);
}

const ALPHABET = byteLevelAlphabet();
const BYTE_TO_ID = new Map<number, number>();
{
  const order: number[] = [];
  for (let b = 33; b <= 126; b++) order.push(b);
  for (let b = 161; b <= 172; b++) order.push(b);
  for (let b = 174; b <= 255; b++) order.push(b);
  for (let b = 0; b < 256; b++) if (!order.includes(b)) order.push(b);
  order.forEach((b, id) => BYTE_TO_ID.set(b, id));
}

/** Token ids of a text under the fixture's byte-level tokenizer (one token per UTF-8 byte). */
export function fixtureTokenize(text: string): number[] {
  return [...Buffer.from(text, "utf8")].map((b) => BYTE_TO_ID.get(b)!);
}

function tokenizerJson(): object {
  const vocab: Record<string, number> = {};
  ALPHABET.forEach((ch, id) => (vocab[ch] = id));
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map(([id, content]) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: "NFC" },
    pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: true },
    post_processor: null,
    decoder: { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: "",
      end_of_word_suffix: "",
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: [],
    },
  };
}

function tokenizerConfig(): object {
  return {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(
      SPECIAL_TOKENS.map(([id, content]) => [String(id), { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true }]),
    ),
    additional_special_tokens: SPECIAL_TOKENS.slice(1).map(([, c]) => c),
    bos_token: null,
    chat_template: CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: "<|im_end|>",
    errors: "replace",
    model_max_length: 262144,
    pad_token: "<|endoftext|>",
    split_special_tokens: false,
    tokenizer_class: "Qwen2Tokenizer",
    unk_token: null,
  };
}

function config(): object {
  return {
    architectures: ["Qwen3VLForConditionalGeneration"],
    model_type: "qwen3_vl",
    image_token_id: 151655,
    video_token_id: 151656,
    vision_start_token_id: 151652,
    vision_end_token_id: 151653,
    tie_word_embeddings: true,
    text_config: {
      model_type: "qwen3_vl_text",
      hidden_size: HIDDEN,
      num_hidden_layers: LAYERS,
      num_attention_heads: 2,
      num_key_value_heads: 1,
      head_dim: HEAD_DIM,
      vocab_size: VOCAB_SIZE,
      max_position_embeddings: 262144,
      rope_scaling: { rope_type: "default", mrope_section: [2, 1, 1], mrope_interleaved: true },
      bos_token_id: 151643,
      eos_token_id: IM_END,
    },
    vision_config: {
      model_type: "qwen3_vl",
      patch_size: 16,
      spatial_merge_size: 2,
      temporal_patch_size: 2,
      in_channels: 3,
      out_hidden_size: HIDDEN,
      depth: 1,
      hidden_size: HIDDEN,
      num_heads: 1,
    },
  };
}

/** Mirrors the real generation_config.json (sampling on by default; the engine turns it off). */
function generationConfig(): object {
  return {
    bos_token_id: 151643,
    pad_token_id: 151643,
    do_sample: true,
    eos_token_id: [IM_END, 151643],
    top_k: 20,
    top_p: 0.8,
    repetition_penalty: 1.0,
    temperature: 0.7,
  };
}

function preprocessorConfig(): object {
  return {
    processor_class: "Qwen3VLProcessor",
    image_processor_type: "Qwen2VLImageProcessorFast",
    do_resize: true,
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    do_convert_rgb: true,
    image_mean: [0.5, 0.5, 0.5],
    image_std: [0.5, 0.5, 0.5],
    // Like the real repo's huge default (16 MP); the engine caps it with its own pixel budget.
    size: { shortest_edge: 4096, longest_edge: 16777216 },
    patch_size: 16,
    temporal_patch_size: 2,
    merge_size: 2,
    resample: 3,
  };
}

// ---------------------------------------------------------------- ONNX graph building

const T = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;
type Dim = number | string;

class GraphBuilder {
  readonly nodes: INode[] = [];
  readonly initializers: ITensor[] = [];
  private count = 0;

  private name(prefix: string): string {
    return `${prefix}_${this.count++}`;
  }

  op(type: string, inputs: string[], attrs: Record<string, number | number[] | ITensor> = {}, output?: string): string {
    const out = output ?? this.name(type.toLowerCase());
    const attribute: IAttribute[] = Object.entries(attrs).map(([name, value]) => {
      if (Array.isArray(value)) return { name, type: AT.INTS, ints: value };
      if (typeof value === "number") return { name, type: AT.INT, i: value };
      return { name, type: AT.TENSOR, t: value };
    });
    this.nodes.push({ opType: type, input: inputs, output: [out], name: out, attribute });
    return out;
  }

  i64(values: number[], dims: number[] = [values.length]): string {
    const name = this.name("i64");
    this.initializers.push({ name, dataType: T.INT64, dims, int64Data: values });
    return name;
  }

  f32(values: number[], dims: number[] = [values.length]): string {
    const name = this.name("f32");
    this.initializers.push({ name, dataType: T.FLOAT, dims, floatData: values });
    return name;
  }

  /** Scalars (rank 0). */
  s64(value: number): string {
    return this.i64([value], []);
  }

  sf(value: number): string {
    return this.f32([value], []);
  }

  cast(input: string, to: number): string {
    return this.op("Cast", [input], { to });
  }

  slice(input: string, start: number, end: number, axis: number): string {
    return this.op("Slice", [input, this.i64([start]), this.i64([end]), this.i64([axis])]);
  }

  sumAll(input: string): string {
    return this.op("ReduceSum", [input], { keepdims: 0 });
  }

  /** Scalar dimension `axis` of a tensor's shape. */
  dim(input: string, axis: number): string {
    return this.op("Gather", [this.op("Shape", [input]), this.s64(axis)], { axis: 0 });
  }
}

function valueInfo(name: string, elemType: number, dims: Dim[]): IValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function encodeModel(g: GraphBuilder, name: string, inputs: IValueInfo[], outputs: IValueInfo[]): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "qwen-ocr fixture",
    docString: `${name}: tiny Qwen3-VL-shaped fixture graph (no weights)`,
    opsetImport: [{ domain: "", version: 17 }],
    graph: { name, node: g.nodes, initializer: g.initializers, input: inputs, output: outputs },
  });
  return onnx.ModelProto.encode(model).finish();
}

function embedTokensGraph(half: boolean): Uint8Array {
  const g = new GraphBuilder();
  const ids = g.op("Min", ["input_ids", g.s64(1000)]);
  const f = g.op("Unsqueeze", [g.cast(ids, T.FLOAT), g.i64([2])]);
  const padded = g.op("Pad", [f, g.i64([0, 0, 0, 0, 0, HIDDEN - 1])]);
  g.op("Identity", [half ? g.cast(padded, T.FLOAT16) : padded], {}, "inputs_embeds");
  return encodeModel(
    g,
    "embed_tokens",
    [valueInfo("input_ids", T.INT64, ["batch_size", "sequence_length"])],
    [valueInfo("inputs_embeds", half ? T.FLOAT16 : T.FLOAT, ["batch_size", "sequence_length", HIDDEN])],
  );
}

function visionEncoderGraph(half: boolean): Uint8Array {
  const g = new GraphBuilder();
  const perImage = g.op("ReduceProd", ["image_grid_thw"], { axes: [1], keepdims: 0 });
  const total = g.op("ReduceSum", [perImage, g.i64([0])], { keepdims: 0 });
  const tokens = g.op("Div", [total, g.s64(4)]);
  // A grid that does not match the pixels makes the Reshape fail. (The plain Reshape to
  // [tokens, 6144], or a Gather of `tokens` rows, would be rewritten by ONNX Runtime's optimizer
  // into forms that check nothing.)
  const matches = g.op("Equal", [g.op("Mul", [tokens, g.s64(4)]), g.dim("pixel_values", 0)]);
  const shape = g.op("Where", [matches, g.i64([-1, 4 * 1536]), g.i64([-1, 4 * 1536 - 1])]);
  const rows = g.op("Reshape", ["pixel_values", shape]);
  const brightness = g.op("ReduceMean", [rows], { axes: [1], keepdims: 1 });
  const zero = g.op("Mul", [brightness, g.sf(0)]);
  const one = g.op("Add", [zero, g.sf(1)]);
  const three = g.op("Concat", [zero, brightness, one], { axis: 1 });
  const features = g.op("Pad", [three, g.i64([0, 0, 0, HIDDEN - 3])]);
  g.op("Identity", [half ? g.cast(features, T.FLOAT16) : features], {}, "image_features");
  return encodeModel(
    g,
    "vision_encoder",
    [valueInfo("pixel_values", T.FLOAT, ["num_patches", 1536]), valueInfo("image_grid_thw", T.INT64, ["num_images", 3])],
    [valueInfo("image_features", half ? T.FLOAT16 : T.FLOAT, ["num_image_tokens", HIDDEN])],
  );
}

function decoderGraph(half: boolean, table: number[], bangId: number, questionId: number): Uint8Array {
  const g = new GraphBuilder();
  const FT = half ? T.FLOAT16 : T.FLOAT;
  const toF = (x: string) => (half ? g.cast(x, T.FLOAT) : x);
  const fromF = (x: string) => (half ? g.cast(x, T.FLOAT16) : x);

  // One cache row per new token: embeds[:8] + prompt flag (ch 3) + temporal position mod 1024 (ch 4).
  const embeds = toF("inputs_embeds");
  const e8 = g.slice(embeds, 0, HEAD_DIM, 2);
  const past0 = toF("past_key_values.0.key");
  const pastLen = g.dim(past0, 2);
  const isPrefill = g.op("Equal", [pastLen, g.s64(0)]);
  const flag = g.cast(isPrefill, T.FLOAT);
  const pos = ["t", "h", "w"].map((_, i) => g.op("Gather", ["position_ids", g.s64(i)], { axis: 0 })); // [B,S] each
  const posMod = g.op("Mod", [pos[0], g.s64(1024)]);
  const posF = g.op("Unsqueeze", [g.cast(posMod, T.FLOAT), g.i64([2])]);
  const onehot = (c: number) => g.f32(Array.from({ length: HEAD_DIM }, (_, i) => (i === c ? 1 : 0)));
  const withFlag = g.op("Add", [e8, g.op("Mul", [flag, onehot(3)])]);
  const row = g.op("Add", [withFlag, g.op("Mul", [posF, onehot(4)])]); // [B,S,8]
  const rowK = g.op("Unsqueeze", [row, g.i64([1])]); // [B,1,S,8]

  let full = "";
  for (let l = 0; l < LAYERS; l++) {
    for (const kind of ["key", "value"]) {
      const past = l === 0 && kind === "key" ? past0 : toF(`past_key_values.${l}.${kind}`);
      const present = g.op("Concat", [past, rowK], { axis: 2 });
      if (!full) full = present;
      g.op("Identity", [fromF(present)], {}, `present.${l}.${kind}`);
    }
  }

  // Read the whole cache.
  const total = g.dim(full, 2);
  const ch = (c: number) => g.slice(full, c, c + 1, 3);
  const [c0, c1, c2, c3] = [ch(0), ch(1), ch(2), ch(3)];
  const imageCount = g.sumAll(c2);
  const mean = g.op("Div", [g.sumAll(g.op("Mul", [c1, c2])), g.op("Max", [imageCount, g.sf(1)])]);
  const noImage = g.op("Less", [imageCount, g.sf(0.5)]);
  const gray = g.op("Less", [g.op("Abs", [mean]), g.sf(0.1)]);
  const light = g.op("Greater", [mean, g.sf(0)]);
  const asked = g.op("Greater", [g.sumAll(g.op("Mul", [g.cast(g.op("Equal", [c0, g.sf(questionId)]), T.FLOAT), c3])), g.sf(0.5)]);
  const klass = g.op("Where", [asked, g.s64(4), g.op("Where", [noImage, g.s64(2), g.op("Where", [gray, g.s64(3), g.op("Where", [light, g.s64(1), g.s64(0)])])])]);
  const promptLen = g.cast(g.sumAll(c3), T.INT64);
  const step = g.op("Sub", [total, promptLen]);
  const looping = g.op("Equal", [klass, g.s64(3)]);
  const column = g.op("Where", [looping, g.op("Mod", [step, g.s64(FIXTURE_TEXTS.loop.length)]), g.op("Min", [step, g.s64(TABLE_LEN)])]);
  const index = g.op("Add", [g.op("Mul", [klass, g.s64(TABLE_LEN + 1)]), column]);
  const token = g.op("Gather", [g.i64(table), index], { axis: 0 });

  // Self-checks: the attention mask covers the cache exactly ...
  const maskOk = g.op("And", [
    g.op("Equal", [g.dim("attention_mask", 1), total]),
    g.op("Equal", [g.sumAll("attention_mask"), total]),
  ]);
  // ... the prefill starts at 0 and image tokens carry 3-D positions ...
  const startsAtZero = g.op("Equal", [g.op("ReduceMin", [pos[0]], { keepdims: 0 }), g.s64(0)]);
  const spread = g.op("Add", [g.sumAll(g.op("Abs", [g.op("Sub", [pos[1], pos[0]])])), g.sumAll(g.op("Abs", [g.op("Sub", [pos[2], pos[0]])]))]);
  const mrope = g.op("Or", [noImage, g.op("Greater", [spread, g.s64(0)])]);
  const prefillOk = g.op("And", [startsAtZero, mrope]);
  // ... and a decode step sits right after the previous position.
  const lastPast = g.slice(past0, -1, 2 ** 31 - 1, 2); // [B,1,0|1,8]
  const lastPos = g.cast(g.sumAll(g.slice(lastPast, 4, 5, 3)), T.INT64);
  const curPos = g.cast(g.sumAll(g.slice(g.slice(rowK, 0, 1, 2), 4, 5, 3)), T.INT64);
  const decodeOk = g.op("Equal", [g.op("Mod", [g.op("Add", [lastPos, g.s64(1)]), g.s64(1024)]), curPos]);
  const stepOk = g.op("Or", [g.op("And", [isPrefill, prefillOk]), g.op("And", [g.op("Not", [isPrefill]), decodeOk])]);
  const ok = g.op("And", [maskOk, stepOk]);
  const next = g.op("Where", [ok, token, g.s64(bangId)]);

  const logits = g.op("OneHot", [g.op("Reshape", [next, g.i64([1, 1])]), g.s64(VOCAB_SIZE), g.f32([-30, 30])], { axis: -1 });
  g.op("Identity", [fromF(logits)], {}, "logits");

  const cache = (prefix: string, len: string) =>
    Array.from({ length: LAYERS }, (_, l) => ["key", "value"].map((k) => valueInfo(`${prefix}.${l}.${k}`, FT, ["batch_size", 1, len, HEAD_DIM]))).flat();
  return encodeModel(
    g,
    "decoder_model_merged",
    [
      valueInfo("inputs_embeds", FT, ["batch_size", "sequence_length", HIDDEN]),
      valueInfo("attention_mask", T.INT64, ["batch_size", "total_sequence_length"]),
      valueInfo("position_ids", T.INT64, [3, "batch_size", "sequence_length"]),
      ...cache("past_key_values", "past_sequence_length"),
    ],
    [valueInfo("logits", FT, ["batch_size", 1, VOCAB_SIZE]), ...cache("present", "total_sequence_length")],
  );
}

/** Output table: one row of TABLE_LEN + 1 token ids per class, padded with <|im_end|>. */
function outputTable(): number[] {
  const rows = [FIXTURE_TEXTS.dark, FIXTURE_TEXTS.light, FIXTURE_TEXTS.none, FIXTURE_TEXTS.loop, FIXTURE_TEXTS.question];
  return rows.flatMap((text) => {
    const ids = fixtureTokenize(text);
    if (ids.length > TABLE_LEN) throw new Error(`fixture text too long: ${text}`);
    return [...ids, ...new Array<number>(TABLE_LEN + 1 - ids.length).fill(IM_END)];
  });
}

export interface FixtureOptions {
  /** Which dtype variants to write (default: all four). */
  dtypes?: readonly FixtureDtype[];
}

/** Writes the fixture model into `dir` (created if needed); returns `dir`. About 50 KB, a few ms. */
export async function buildQwenFixture(dir: string, options: FixtureOptions = {}): Promise<string> {
  const dtypes = options.dtypes ?? FIXTURE_DTYPES;
  await mkdir(path.join(dir, "onnx"), { recursive: true });
  const json = (name: string, value: object) => writeFile(path.join(dir, name), JSON.stringify(value, null, 2) + "\n");
  const table = outputTable();
  const [bang] = fixtureTokenize("!");
  const [question] = fixtureTokenize("?");
  await Promise.all([
    json("config.json", config()),
    json("generation_config.json", generationConfig()),
    json("preprocessor_config.json", preprocessorConfig()),
    json("tokenizer.json", tokenizerJson()),
    json("tokenizer_config.json", tokenizerConfig()),
    ...dtypes.flatMap((dtype) => {
      const half = HALF[dtype];
      const file = (name: string) => path.join(dir, "onnx", `${name}${SUFFIX[dtype]}.onnx`);
      return [
        writeFile(file("embed_tokens"), embedTokensGraph(half)),
        writeFile(file("vision_encoder"), visionEncoderGraph(half)),
        writeFile(file("decoder_model_merged"), decoderGraph(half, table, bang, question)),
      ];
    }),
  ]);
  return dir;
}

/**
 * Test pages for the fixture, as PNGs in `dir`: dark (black page, white block), light (white page,
 * black block), loop (half black, half white: mean brightness 0), blank (uniform white: no ink).
 */
export async function makeFixtureImages(dir: string): Promise<Record<"dark" | "light" | "loop" | "blank", string>> {
  const { default: sharp } = await import("sharp");
  await mkdir(dir, { recursive: true });
  const width = 320;
  const height = 200;
  const page = (pixel: (x: number, y: number) => number) => {
    const data = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.fill(pixel(x, y), (y * width + x) * 3, (y * width + x) * 3 + 3);
    return data;
  };
  const block = (x: number, y: number) => x > 60 && x < 260 && y > 70 && y < 130;
  const pages = {
    dark: page((x, y) => (block(x, y) ? 240 : 15)),
    light: page((x, y) => (block(x, y) ? 15 : 240)),
    loop: page((x) => (x < width / 2 ? 0 : 255)),
    blank: page(() => 250),
  };
  const out = {} as Record<keyof typeof pages, string>;
  for (const [name, data] of Object.entries(pages) as Array<[keyof typeof pages, Buffer]>) {
    out[name] = path.join(dir, `${name}.png`);
    await sharp(data, { raw: { width, height, channels: 3 } }).png().toFile(out[name]);
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const dir = path.resolve(process.argv[2] ?? path.join(root, "test/.tmp/qwen-fixture"));
  const started = performance.now();
  await buildQwenFixture(dir);
  console.log(`wrote ${dir} in ${Math.round(performance.now() - started)} ms`);
}
