import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { ExitCode } from "../types.js";
import { UsageError } from "../errors.js";
import { FORMATS } from "../output/format.js";
import type { CliIO } from "./io.js";
import { VERSION } from "../version.js";

export interface ScanFlags {
  engine: string;
  format: (typeof FORMATS)[number];
  output?: string;
  pages?: string;
  dpi: number;
  threads?: number;
  pageTimeout: number;
  plugin?: string[];
  quiet?: boolean;
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

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Builds the command tree. Commands import their implementation only when they run. */
export function buildProgram(io: CliIO, setExitCode: (code: number) => void): Command {
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
    .addOption(new Option("-e, --engine <name>", "OCR engine: auto, ppocr, or one added by --plugin").default("auto"))
    .addOption(new Option("-f, --format <format>", "output format").choices(FORMATS).default("text"))
    .option("-o, --output <path>", "write to a file, or to a directory (ending in /) with one file per input")
    .option("--pages <ranges>", "pages to read, e.g. 1-3,7,10- (1-based, applies to every input)")
    .option("--dpi <n>", "PDF rasterization resolution", positiveInt("--dpi"), 200)
    .option("--threads <n>", "inference threads (default: all cores)", positiveInt("--threads"))
    .option("--page-timeout <seconds>", "fail a page that takes longer than this (0: no limit)", nonNegativeNumber, 0)
    .option("--plugin <module>", "load engines from a module (repeatable)", collect)
    .option("-q, --quiet", "no progress or notes on stderr (errors still print)")
    .addHelpText(
      "after",
      `
Exit codes: 0 all inputs read, 1 some input or page failed (the rest is still written),
            2 usage error, 3 model missing, 130 interrupted.

Examples:
  qwen-ocr scan invoice.png
  qwen-ocr scan 'scans/**/*.{pdf,png,jpg}' --format jsonl > out.jsonl
  cat page.png | qwen-ocr scan - --format json
  qwen-ocr scan report.pdf --pages 1-3,7 --format markdown -o report.md`,
    )
    .action(async (inputs: string[], flags: ScanFlags) => {
      const { runScan } = await import("./scan.js");
      setExitCode(await runScan(inputs, flags, io));
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
    throw err;
  }
}
