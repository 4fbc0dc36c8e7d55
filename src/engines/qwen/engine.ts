/**
 * The qwen engine: a page image and a prompt through Qwen3-VL's chat template, processor and
 * greedy generation on transformers.js, with the blank-page check, the pixel budget, streaming and
 * the loop guard. Loaded by index.ts after the model has been found on disk.
 */
import type { Engine, EngineInfo, EngineResult, Line, Page, RecognizeOptions } from "../../types.js";
import { dtypeLabel, transformersDtype } from "../../models/dtypes.js";
import type { ModelLocation } from "../../models/resolve.js";
import type { DeviceChoice } from "./device.js";
import { generate, type GenerationResult } from "./generate.js";
import { isBlank, resizeRgb, smartResize } from "./image.js";
import { cutLoop, describeLoop } from "./loop.js";
import { transformersCacheDir, type QwenSettings } from "./options.js";
import { fastInputs, processorInputs } from "./inputs.js";
import { DEFAULT_PROMPT } from "./prompt.js";
import { loadModel, type Loaded, type ProcessorOutput } from "./runtime.js";

export class QwenEngine implements Engine {
  readonly info: EngineInfo;
  readonly loadMs: number;
  /** Things the user should know about how the engine was set up (e.g. a device fallback). */
  readonly notes: string[];
  private loaded: Loaded | undefined;
  private readonly settings: QwenSettings;
  private readonly eos: Set<bigint>;
  private visionMs = 0;
  private busy: Promise<void> = Promise.resolve();

  private constructor(loaded: Loaded, info: EngineInfo, loadMs: number, settings: QwenSettings, notes: string[]) {
    this.loaded = loaded;
    this.info = info;
    this.loadMs = loadMs;
    this.settings = settings;
    this.notes = notes;
    const eos = loaded.model.generation_config?.eos_token_id ?? loaded.model.config.eos_token_id ?? [];
    this.eos = new Set((Array.isArray(eos) ? eos : [eos]).map((id) => BigInt(id)));
    // transformers.js runs the vision encoder inside generate(); time it where it happens.
    const model = loaded.model;
    const encode = model.encode_image.bind(model);
    model.encode_image = async (inputs: unknown) => {
      const started = performance.now();
      try {
        return await encode(inputs);
      } finally {
        this.visionMs += performance.now() - started;
      }
    };
  }

  static async load(location: ModelLocation, device: DeviceChoice, settings: QwenSettings, started: number): Promise<QwenEngine> {
    const loaded = await loadModel({
      dir: location.dir,
      dtype: transformersDtype(location.spec),
      device: device.device,
      threads: settings.threads,
      cacheDir: transformersCacheDir(settings),
      localModelPath: settings.root,
    });
    // The processor's own budget agrees with ours, so its resize is a no-op after ours.
    loaded.processor.image_processor.max_pixels = settings.maxPixels;
    const info: EngineInfo = {
      engine: "qwen",
      model: location.id,
      ...(location.revision ? { revision: location.revision } : {}),
      dtype: dtypeLabel(location.spec),
      device: device.device,
    };
    return new QwenEngine(loaded, info, Math.round(performance.now() - started), settings, device.note ? [device.note] : []);
  }

  async recognize(page: Page, options: RecognizeOptions = {}): Promise<EngineResult> {
    // One page at a time: a page abandoned on timeout keeps computing until its next stopping
    // check (the first token, after a prefill that can take a minute on a CPU), and the next page
    // waits for it rather than competing for the same cores.
    const previous = this.busy;
    let done!: () => void;
    this.busy = new Promise<void>((resolve) => (done = resolve));
    try {
      await previous;
      return await this.recognizeNow(page, options);
    } finally {
      done();
    }
  }

  private async recognizeNow(page: Page, options: RecognizeOptions): Promise<EngineResult> {
    const loaded = this.loaded;
    if (!loaded) throw new Error("qwen engine is closed");
    const { signal } = options;
    const prompt = options.prompt ?? DEFAULT_PROMPT;
    const generation = this.generationRecord(prompt.name);
    const started = performance.now();
    signal?.throwIfAborted();

    if (isBlank(page.image)) {
      return {
        text: "",
        lines: [],
        finish: "stop",
        timings: { preprocessMs: performance.now() - started },
        warnings: ["blank page (no ink): the model was not run"],
        tokens: { input: 0, output: 0 },
        generation,
      };
    }

    const inputs = await this.prepare(loaded, page, prompt.text);
    const preprocessMs = performance.now() - started;
    signal?.throwIfAborted();
    const inputTokens = inputs.input_ids.dims.at(-1) ?? 0;
    const warnings: string[] = [];

    this.visionMs = 0;
    const run = (noRepeatNgram?: number, onText?: (delta: string) => void) =>
      generate({
        model: loaded.model,
        tokenizer: loaded.processor.tokenizer,
        inputs,
        maxNewTokens: this.settings.maxNewTokens,
        eos: this.eos,
        loop: this.settings.loop,
        noRepeatNgram,
        signal,
        onText,
      });
    let result: GenerationResult = await run(undefined, options.onText);
    let { visionMs } = this;
    let prefillMs = Math.max(0, result.firstTokenMs - this.visionMs);
    let decodeMs = result.decodeMs;
    let outputTokens = result.outputTokens;

    if (result.finish === "loop" && this.settings.loopRetryNgram > 0) {
      // One retry from the start with n-gram blocking. Its text is not streamed (the first pass
      // was), and it is kept only if it ends cleanly: blocking can also produce junk.
      const first = result;
      const ngram = this.settings.loopRetryNgram;
      this.visionMs = 0;
      const retry = await run(ngram);
      visionMs += this.visionMs;
      prefillMs += Math.max(0, retry.firstTokenMs - this.visionMs);
      decodeMs += retry.decodeMs;
      outputTokens += retry.outputTokens;
      generation.no_repeat_ngram_size = ngram;
      if (retry.finish === "stop") {
        result = retry;
        warnings.push(`repetition loop (${describeLoop(first.loop!)}); the retry with no_repeat_ngram_size=${ngram} finished cleanly and was kept`);
      } else {
        warnings.push(`repetition loop; the retry with no_repeat_ngram_size=${ngram} ended with '${retry.finish}' too, so the first pass was kept`);
      }
    }

    let text = result.text;
    if (result.loop) {
      text = cutLoop(text, result.loop);
      warnings.push(`repetition loop: ${describeLoop(result.loop)} at the end; generation stopped and the repeats were cut`);
    } else if (result.finish === "length") {
      warnings.push(`output cut at --max-new-tokens ${this.settings.maxNewTokens}`);
    }
    text = text.trim();
    return {
      text,
      lines: toLines(text),
      finish: result.finish,
      timings: { preprocessMs, visionMs, prefillMs, decodeMs },
      warnings,
      tokens: { input: inputTokens, output: outputTokens },
      generation,
    };
  }

  async close(): Promise<void> {
    const loaded = this.loaded;
    this.loaded = undefined;
    await loaded?.model.dispose();
  }

  /** The page at the pixel budget, in the chat template, as model inputs. */
  private async prepare(loaded: Loaded, page: Page, promptText: string): Promise<ProcessorOutput> {
    const imageProcessor = loaded.processor.image_processor;
    const factor = (imageProcessor.config.patch_size ?? 16) * (imageProcessor.config.merge_size ?? 2);
    const minPixels = Math.min(imageProcessor.min_pixels ?? factor * factor, this.settings.maxPixels);
    const [width, height] = smartResize(page.image.width, page.image.height, factor, minPixels, this.settings.maxPixels);
    const image = await resizeRgb(page.image, width, height);
    return fastInputs(loaded, image, promptText) ?? processorInputs(loaded, image, promptText);
  }

  private generationRecord(prompt: string): Record<string, number | boolean | string> {
    // The model's generation config still applies what greedy decoding keeps (a repetition penalty).
    const penalty = this.loaded?.model.generation_config?.repetition_penalty;
    return {
      prompt,
      do_sample: false,
      max_new_tokens: this.settings.maxNewTokens,
      max_pixels: this.settings.maxPixels,
      ...(typeof penalty === "number" && penalty !== 1 ? { repetition_penalty: penalty } : {}),
      loop_min_chars: this.settings.loop.minChars,
      loop_min_repeats: this.settings.loop.minRepeats,
    };
  }
}

function toLines(text: string): Line[] {
  return text
    .split("\n")
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== "")
    .map((line) => ({ text: line }));
}
