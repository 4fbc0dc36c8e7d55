import { createRequire } from "node:module";
import type * as CommanderModule from "commander";
import { ExitCode } from "../types.js";
import { UsageError } from "../errors.js";
import { FORMATS } from "../output/format.js";
import type { CliIO } from "./io.js";
import { VERSION } from "../version.js";

// Required, not imported: commander is CommonJS, and importing it goes through its ESM wrapper
// and Node's export scan of its sources, ~14 ms of a `--help` that must answer in under 200 ms.
const { Command, CommanderError, InvalidArgumentError, Option } = createRequire(import.meta.url)("commander") as typeof CommanderModule;

export interface ScanFlags {
  engine: string;
  /** `--no-cache` sets it to false. */
  cache: boolean;
  concurrency: number;
  shard?: string;
  skipExisting?: boolean;
  format: (typeof FORMATS)[number];
  output?: string;
  pages?: string;
  dpi: number;
  pdfText: "auto" | "ocr" | "text";
  threads?: number;
  pageTimeout: number;
  plugin?: string[];
  quiet?: boolean;
  prompt?: string;
  var?: string[];
  lang?: string;
  groupBy?: "language" | "none";
  langNames: "native" | "english";
  model?: string;
  modelDir?: string;
  dtype?: string;
  device: string;
  maxNewTokens?: number;
  maxPixels?: number;
  offline?: boolean;
  baseUrl?: string;
  apiKeyEnv?: string;
}

export interface ModelsFlags {
  model?: string;
  modelDir?: string;
  dtype?: string;
  revision?: string;
  offline?: boolean;
  quiet?: boolean;
  json?: boolean;
}

export interface CacheFlags {
  json?: boolean;
  olderThan?: number;
  maxSize?: number;
  all?: boolean;
}

export interface DoctorFlags {
  json?: boolean;
  model?: string;
  modelDir?: string;
  dtype?: string;
  device: string;
}

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive whole number`);
    return n;
  };
}

function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError("must be a number of seconds (0 for no limit)");
  return n;
}

function nonNegative(what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`must be a number of ${what}`);
    return n;
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Builds the command tree. Commands import their implementation only when they run. */
export function buildProgram(io: CliIO, setExitCode: (code: number) => void): CommanderModule.Command {
  const program = new Command("qwen-ocr")
    .description("Private, local, multilingual OCR of images and PDFs.")
    .version(VERSION, "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(s.startsWith("error:") ? `qwen-ocr: ${s.slice(7)}` : s),
    })
    .exitOverride();

  program
    .command("scan")
    .description("OCR images and PDFs; results go to stdout (or -o), progress and errors to stderr")
    .argument("<inputs...>", "files, directories (searched recursively), quoted globs, or - for stdin")
    .addOption(new Option("-e, --engine <name>", "OCR engine: auto, qwen, ppocr, openai (a served model), or one added by --plugin").default("auto"))
    .addOption(new Option("-f, --format <format>", "output format").choices(FORMATS).default("text"))
    .option("-o, --output <path>", "write to a file, or to a directory (ending in /) with one file per input")
    .option("--pages <ranges>", "pages to read, e.g. 1-3,7,10- (1-based, applies to every input)")
    .option("--dpi <n>", "PDF rasterization resolution", positiveInt("--dpi"), 200)
    .addOption(new Option("--pdf-text <mode>", "PDF pages' own text: auto uses it where it is real text and OCRs the rest; ocr: OCR every page; text: never OCR").choices(["auto", "ocr", "text"]).default("auto"))
    .option("--threads <n>", "inference threads (default: all cores)", positiveInt("--threads"))
    .option("--page-timeout <seconds>", "fail a page that takes longer than this (0: no limit)", nonNegativeNumber, 0)
    .option("--plugin <module>", "load engines from a module (repeatable)", collect)
    .option("-q, --quiet", "no progress or notes on stderr (errors still print)")
    .option("--no-cache", "neither read nor store page results in the result cache (see `qwen-ocr cache`)")
    .option("--concurrency <n>", "inputs worked on at once; output stays in input order", positiveInt("--concurrency"), 1)
    .option("--shard <i/N>", "read only part i of N disjoint parts of the inputs (for N parallel CI jobs)")
    .option("--skip-existing", "with -o DIR/: leave out inputs whose output file is already there, without opening them")
    .option("--model <dir|repo-id>", "qwen: a model directory or a pulled hub repo (default onnx-community/Qwen3-VL-2B-Instruct-ONNX); ppocr: a directory with its ONNX files; openai: the served model's name")
    .option("--model-dir <dir>", "where pulled models are kept (default: $QWEN_OCR_HOME/models, else the user cache)")
    .option("--dtype <dtype>", "qwen precision: q4f16, q4, fp16 or fp32 (default: the best one installed for the device); ppocr: int8 or fp32 (default: int8 on CPUs with int8 dot products — AVX-512 VNNI, AVX-VNNI, Arm — else fp32)")
    .addOption(new Option("--device <device>", "qwen: where to run; auto tries cuda, then webgpu, then cpu").choices(["auto", "cpu", "cuda", "webgpu"]).default("auto"))
    .option("--max-new-tokens <n>", "qwen, openai: most tokens generated per page (default 2048)", positiveInt("--max-new-tokens"))
    .option("--max-pixels <n>", "qwen, openai: pixel budget per page image (default 1310720: 1280 visual tokens)", positiveInt("--max-pixels"))
    .option("--offline", "never touch the network (scan never does; HF_HUB_OFFLINE=1 is the same)")
    .option("--base-url <url>", "openai: the OpenAI-compatible server, e.g. http://localhost:8000/v1 (vLLM, SGLang); --model names the served model")
    .option("--api-key-env <VAR>", "openai: send the API key held in this environment variable")
    .option("-p, --prompt <name|file>", "prompt template for vision-language engines (see `qwen-ocr prompts list`; default: plain)")
    .option("--var <key=value>", "fill a template placeholder (repeatable)", collect)
    .option("--lang <codes>", "the pages' languages, e.g. ja,en, for templates that mention them")
    .addOption(new Option("--group-by <what>", "text and markdown: one section per language (default: the template's choice)").choices(["language", "none"]))
    .addOption(new Option("--lang-names <style>", "how language sections are named: 中文 (Chinese) or Chinese").choices(["native", "english"]).default("native"))
    .addHelpText(
      "after",
      `
Exit codes: 0 all inputs read, 1 some input or page failed (the rest is still written),
            2 usage error, 3 model missing, 130 interrupted.

The qwen engine needs its model once: qwen-ocr models pull (see qwen-ocr doctor).

Examples:
  qwen-ocr scan invoice.png
  qwen-ocr scan 'scans/**/*.{pdf,png,jpg}' --format jsonl > out.jsonl
  cat page.png | qwen-ocr scan - --format json
  qwen-ocr scan report.pdf --pages 1-3,7 --format markdown -o report.md
  qwen-ocr scan 'scans/**/*.pdf' -f jsonl --shard 2/4 > part-2.jsonl   # job 2 of a 4-job matrix`,
    )
    .action(async (inputs: string[], flags: ScanFlags) => {
      const { runScan } = await import("./scan.js");
      setExitCode(await runScan(inputs, flags, io));
    });

  const prompts = program.command("prompts").description("the prompt templates (prompts/*.md) the qwen engine reads pages with");
  prompts
    .command("list")
    .description("list the templates: name, output kind, description, engines")
    .option("--json", "machine-readable output")
    .action(async (flags: { json?: boolean }) => {
      const { runPromptsList } = await import("./prompts.js");
      setExitCode(await runPromptsList(flags, io));
    });
  prompts
    .command("show")
    .description("print a template (front matter and body)")
    .argument("<name|file>", "a template name or a .md file")
    .action(async (name: string) => {
      const { runPromptsShow } = await import("./prompts.js");
      setExitCode(await runPromptsShow(name, io));
    });

  const models = program.command("models").description("download, list and remove Qwen models (kept in the user cache)");
  const modelOption = () => new Option("--model <repo-id>", "hub repo (default onnx-community/Qwen3-VL-2B-Instruct-ONNX)");
  const modelDirOption = () => new Option("--model-dir <dir>", "models directory (default: $QWEN_OCR_HOME/models, else the user cache)");
  models
    .command("pull")
    .description("download a model once (only the files its dtype needs), resumably, with a progress bar")
    .addOption(modelOption())
    .option("--dtype <dtype>", "q4f16, q4, fp16 or fp32 (default: q4 for CPU, q4f16 when a GPU is usable)")
    .option("--revision <rev>", "branch, tag or commit", "main")
    .addOption(modelDirOption())
    .option("--offline", "refuse to use the network (HF_HUB_OFFLINE=1 is the same)")
    .option("-q, --quiet", "no progress on stderr")
    .addHelpText("after", "\nThe hub is https://huggingface.co, or $HF_ENDPOINT; $HF_TOKEN is sent when set.")
    .action(async (flags: ModelsFlags) => {
      const { runPull } = await import("./models.js");
      setExitCode(await runPull(flags, io));
    });
  models
    .command("list")
    .description("list the models downloaded")
    .addOption(modelDirOption())
    .option("--json", "machine-readable output")
    .action(async (flags: ModelsFlags) => {
      const { runList } = await import("./models.js");
      setExitCode(await runList(flags, io));
    });
  models
    .command("path")
    .description("print the directory a model is (or would be) kept in; exit 3 when it is not downloaded")
    .addOption(modelOption())
    .option("--dtype <dtype>", "q4f16, q4, fp16 or fp32 (default: the best one installed)")
    .addOption(modelDirOption())
    .action(async (flags: ModelsFlags) => {
      const { runPath } = await import("./models.js");
      setExitCode(await runPath(flags, io));
    });
  models
    .command("rm")
    .description("remove a downloaded model (every dtype unless --dtype), unfinished downloads included")
    .addOption(modelOption())
    .option("--dtype <dtype>", "remove only this precision")
    .addOption(modelDirOption())
    .action(async (flags: ModelsFlags) => {
      const { runRemove } = await import("./models.js");
      setExitCode(await runRemove(flags, io));
    });

  const cache = program.command("cache").description("the result cache: page results kept so that re-runs and resumed runs skip finished pages");
  cache
    .command("stats")
    .description("where the cache is, how many page results it holds and how big it is")
    .option("--json", "machine-readable output")
    .action(async (flags: CacheFlags) => {
      const { runCacheStats } = await import("./cache.js");
      setExitCode(await runCacheStats(flags, io));
    });
  cache
    .command("prune")
    .description("remove page results: those unused for DAYS, then the least recently used down to a size")
    .option("--older-than <days>", "remove results not used for this many days", nonNegative("days"))
    .option("--max-size <MB>", "then remove the least recently used until the cache is at most this big", nonNegative("megabytes"))
    .option("--all", "remove every result")
    .option("--json", "machine-readable output")
    .action(async (flags: CacheFlags) => {
      const { runCachePrune } = await import("./cache.js");
      setExitCode(await runCachePrune(flags, io));
    });

  program
    .command("doctor")
    .description("show which engine, model, dtype and device would run, and why; what is missing and how to fix it")
    .option("--json", "machine-readable output")
    .option("--model <dir|repo-id>", "check this model instead of the default")
    .option("--dtype <dtype>", "check this precision")
    .addOption(new Option("--device <device>", "check this device").choices(["auto", "cpu", "cuda", "webgpu"]).default("auto"))
    .addOption(modelDirOption())
    .action(async (flags: DoctorFlags) => {
      const { runDoctor } = await import("./doctor.js");
      setExitCode(await runDoctor(flags, io));
    });

  const wholeNumber = (name: string) => (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number`);
    return n;
  };
  program
    .command("serve")
    .description("run the OCR service: an HTTP API (POST /v1/ocr) and a web page, with the engine loaded once")
    .option("--host <address>", "address to listen on (loopback by default; anything else needs care: see --token-env)", "127.0.0.1")
    .option("--port <n>", "port (0: any free port)", wholeNumber("--port"), 7860)
    .option("--token-env <VAR>", "require 'Authorization: Bearer <token>', the token read from this environment variable")
    .option("--max-upload-mb <n>", "largest upload (413 beyond)", positiveInt("--max-upload-mb"), 50)
    .option("--max-pages <n>", "most pages per request (422 beyond)", positiveInt("--max-pages"), 100)
    .option("--concurrency <n>", "requests OCRed at once, each with its own engine instance", positiveInt("--concurrency"), 1)
    .option("--queue <n>", "requests that may wait for their turn (503 beyond)", wholeNumber("--queue"), 16)
    .addOption(new Option("-e, --engine <name>", "the server's engine (requests may name another): auto, qwen, ppocr, or one added by --plugin").default("auto"))
    .option("--plugin <module>", "load engines from a module (repeatable)", collect)
    .option("--dpi <n>", "PDF rasterization resolution", positiveInt("--dpi"), 200)
    .option("--threads <n>", "inference threads per engine instance (default: the cores shared among --concurrency)", positiveInt("--threads"))
    .option("--page-timeout <seconds>", "fail a page that takes longer than this (0: no limit)", nonNegativeNumber, 600)
    .option("--model <dir|repo-id>", "qwen: a model directory or a pulled hub repo")
    .option("--model-dir <dir>", "where pulled models are kept")
    .option("--dtype <dtype>", "qwen precision: q4f16, q4, fp16 or fp32")
    .addOption(new Option("--device <device>", "qwen: where to run").choices(["auto", "cpu", "cuda", "webgpu"]).default("auto"))
    .option("--max-new-tokens <n>", "qwen: most tokens generated per page", positiveInt("--max-new-tokens"))
    .option("--max-pixels <n>", "qwen: pixel budget per page image", positiveInt("--max-pixels"))
    .option("--offline", "never touch the network")
    .option("-q, --quiet", "no request log or notes on stderr (the address line and errors still print)")
    .addHelpText("after", "\nSIGTERM or Ctrl-C: new requests get 503 and running ones finish; a second one stops them after the page in flight.\nThe API, the web page and the security defaults: the README, section 'The OCR service'.")
    .action(async (flags: import("./serve.js").ServeFlags) => {
      const { runServe } = await import("./serve.js");
      setExitCode(await runServe(flags, io));
    });

  return program;
}

/** Runs the CLI with the given arguments (without `node` and the script path); returns the exit code. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; every other commander error is a usage error.
      return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`qwen-ocr: ${err.message}\n`);
      return err.exitCode;
    }
    // Only stdout's own closed pipe: an EPIPE from anything else (a plugin's socket) is a failure.
    if (isBrokenPipe(err) && err === io.stdout.errored) return ExitCode.BrokenPipe;
    throw err;
  }
}

/** A write to a pipe whose reader has gone (`qwen-ocr scan … | head`): not a failure of qwen-ocr. */
export function isBrokenPipe(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "EPIPE";
}
