/**
 * One greedy generation with streaming and guards: a streamer that decodes tokens into text as
 * they come (holding back incomplete UTF-8), and a stopping criterion that ends generation on a
 * repetition loop or an aborted signal. Timings are split at the first generated token.
 */
import type { Finish } from "../../types.js";
import { findLoop, type Loop, type LoopBounds } from "./loop.js";
import type { ProcessorOutput, Streamer, TokenizerLike, VisionLanguageModel } from "./runtime.js";

/** Decodes generated tokens incrementally; `text` always equals the concatenation of the deltas. */
export class TextCollector implements Streamer {
  readonly tokens: bigint[] = [];
  text = "";
  firstTokenAt: number | undefined;
  private promptSeen = false;
  private pending: bigint[] = [];

  constructor(
    private readonly tokenizer: TokenizerLike,
    private readonly special: Set<bigint>,
    private readonly onText?: (delta: string) => void,
  ) {}

  put(value: bigint[][]): void {
    if (!this.promptSeen) {
      // generate() first hands over the whole prompt.
      this.promptSeen = true;
      return;
    }
    for (const id of value[0] ?? []) {
      this.firstTokenAt ??= performance.now();
      this.tokens.push(id);
      if (this.special.has(id)) continue;
      this.pending.push(id);
      const piece = this.tokenizer.decode(this.pending, { skip_special_tokens: true });
      // A trailing U+FFFD is a UTF-8 sequence split across tokens: wait for the rest.
      if (!piece.endsWith("\uFFFD")) this.flush(piece);
    }
  }

  end(): void {
    if (this.pending.length) this.flush(this.tokenizer.decode(this.pending, { skip_special_tokens: true }));
  }

  private flush(piece: string): void {
    this.pending = [];
    if (!piece) return;
    this.text += piece;
    this.onText?.(piece);
  }
}

export interface GenerationRequest {
  model: VisionLanguageModel;
  tokenizer: TokenizerLike;
  inputs: ProcessorOutput;
  maxNewTokens: number;
  eos: Set<bigint>;
  loop: LoopBounds;
  noRepeatNgram?: number;
  signal?: AbortSignal;
  onText?: (delta: string) => void;
}

export interface GenerationResult {
  text: string;
  finish: Finish;
  loop?: Loop;
  outputTokens: number;
  /** From the call to the first generated token. */
  firstTokenMs: number;
  /** From the first generated token to the end. */
  decodeMs: number;
}

export async function generate(request: GenerationRequest): Promise<GenerationResult> {
  const special = new Set(request.tokenizer.all_special_ids.map((id) => BigInt(id)));
  const collector = new TextCollector(request.tokenizer, special, request.onText);
  let loop: Loop | undefined;
  const guard = (): boolean[] => {
    if (request.signal?.aborted) return [true];
    loop ??= findLoop(collector.text, request.loop);
    return [loop !== undefined];
  };
  const started = performance.now();
  await request.model.generate({
    ...request.inputs,
    max_new_tokens: request.maxNewTokens,
    do_sample: false,
    ...(request.noRepeatNgram ? { no_repeat_ngram_size: request.noRepeatNgram } : {}),
    streamer: collector,
    stopping_criteria: [guard],
  });
  const ended = performance.now();
  if (request.signal?.aborted) throw request.signal.reason ?? new Error("aborted");

  const last = collector.tokens.at(-1);
  let finish: Finish = "stop";
  if (loop) finish = "loop";
  else if (last !== undefined && request.eos.has(last)) finish = "stop";
  else if (collector.tokens.length >= request.maxNewTokens) finish = "length";
  const first = collector.firstTokenAt ?? ended;
  return {
    text: collector.text,
    finish,
    ...(loop ? { loop } : {}),
    outputTokens: collector.tokens.length,
    firstTokenMs: first - started,
    decodeMs: ended - first,
  };
}
