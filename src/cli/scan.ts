import path from "node:path";
import { ExitCode, type PageRecord } from "../types.js";
import { UsageError } from "../errors.js";
import { scan } from "../api.js";
import { parsePageSelection } from "../pages/index.js";
import { createWriter, isDirectoryTarget } from "../output/writer.js";
import { parseShard } from "../inputs/shard.js";
import { resultsDir } from "../cache/store.js";
import { createProgress } from "./progress.js";
import { Reporter, type CliIO } from "./io.js";
import type { ScanFlags } from "./program.js";

/** `qwen-ocr scan`: runs the API's scan and writes its records, reporting failures on stderr. */
export async function runScan(args: string[], flags: ScanFlags, io: CliIO): Promise<number> {
  const reporter = new Reporter(io.stderr, !!flags.quiet);
  const pages = flags.pages === undefined ? undefined : parsePageSelection(flags.pages);
  const vars = parseVars(flags.var ?? []);
  // A template given as a path is relative to where the user is.
  const prompt = flags.prompt && /[\\/]|\.md$/i.test(flags.prompt) ? path.resolve(io.cwd, flags.prompt) : flags.prompt;
  const groupBy = await groupingFor(flags.groupBy, prompt);
  const shard = flags.shard === undefined ? undefined : parseShard(flags.shard);
  if (flags.skipExisting && !(flags.output && (await isDirectoryTarget(flags.output)))) {
    throw new UsageError("--skip-existing needs -o DIR/ (one output file per input)");
  }
  const concurrency = flags.concurrency ?? 1;
  let skipped = 0;
  const writer = await createWriter({
    format: flags.format,
    output: flags.output,
    stdout: io.stdout,
    inputs: args.length,
    groupBy,
    langNames: flags.langNames,
  });
  const progress = await createProgress({ stream: io.stderr, quiet: !!flags.quiet, env: io.env });

  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(ExitCode.Interrupted);
    reporter.note("interrupted: finishing the page in flight (press Ctrl-C again to quit now)");
    interrupt.abort();
  };
  if (io.handleSignals) process.on("SIGINT", onSigint);

  let failed = false;
  try {
    const records = scan(args, {
      engine: flags.engine,
      engineOptions: {
        threads: flags.threads,
        model: flags.model,
        modelDir: flags.modelDir,
        dtype: flags.dtype,
        device: flags.device,
        maxNewTokens: flags.maxNewTokens,
        maxPixels: flags.maxPixels,
        offline: flags.offline === true,
        baseUrl: flags.baseUrl,
        apiKeyEnv: flags.apiKeyEnv,
        cwd: io.cwd,
        env: io.env,
        onNote: (message: string) => reporter.note(message),
      },
      plugins: flags.plugin,
      prompt,
      vars,
      langHint: flags.lang?.split(/[,\s]+/).filter(Boolean),
      // Languages cost a detector load: only for the formats that carry them or show them.
      languages: flags.format === "json" || flags.format === "jsonl" || groupBy ? { names: flags.langNames } : false,
      dpi: flags.dpi,
      pdfText: flags.pdfText,
      pages,
      pageTimeoutMs: flags.pageTimeout * 1000,
      signal: interrupt.signal,
      cache: flags.cache === false || /^(0|off|false|no)$/i.test(io.env.QWEN_OCR_CACHE ?? "") ? false : resultsDir(io.env),
      concurrency,
      shard,
      skip: flags.skipExisting ? (source) => writer.exists?.(source.name) ?? false : undefined,
      cwd: io.cwd,
      stdin: io.stdin,
      onEvent: (event) => {
        if (event.type === "note") reporter.note(event.message);
        else if (event.type === "engine-loading") progress.loading(event.engine);
        else if (event.type === "engine-ready") progress.loaded(event.info.engine, event.loadMs);
        else if (event.type === "source-start") progress.sourceStart(event.source, event.pages);
        // Streamed text of several inputs at once would interleave: only whole records then.
        else if (event.type === "text" && concurrency === 1) writer.delta?.(event.source, event.page, event.delta);
        else if (event.type === "inputs") writer.plan?.(event.names);
        else if (event.type === "skipped") skipped++;
        else if (event.type === "source-end" && event.interrupted) writer.incomplete?.(event.source);
      },
    });
    for await (const record of records) {
      if (record.error) {
        failed = true;
        reporter.error(errorLine(record));
      }
      for (const warning of record.warnings) reporter.note(`${where(record)}${warning}`);
      progress.page(record);
      await writer.write(record);
    }
  } catch (err) {
    await writer.abort();
    throw err;
  } finally {
    progress.stop();
    if (io.handleSignals) process.off("SIGINT", onSigint);
  }
  await writer.close();
  if (skipped) reporter.note(`skipped ${skipped} input${skipped === 1 ? "" : "s"} whose output file is already there`);
  if (interrupt.signal.aborted) return ExitCode.Interrupted;
  return failed ? ExitCode.InputFailed : ExitCode.Ok;
}

/** `<path>: <reason>`, with the page named when the input has several. */
function errorLine(record: PageRecord): string {
  return `${where(record)}${record.error?.message ?? "failed"}`;
}

function where(record: PageRecord): string {
  return `${record.source}: ${record.page > 0 && record.pages > 1 ? `page ${record.page}: ` : ""}`;
}

function parseVars(specs: string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    if (eq <= 0) throw new UsageError(`--var expects key=value, got '${spec}'`);
    vars[spec.slice(0, eq)] = spec.slice(eq + 1);
  }
  return vars;
}

/** `--group-by` wins; otherwise the template decides (the grouped template groups by language). */
async function groupingFor(flag: ScanFlags["groupBy"], prompt: string | undefined): Promise<"language" | undefined> {
  if (flag) return flag === "language" ? "language" : undefined;
  if (!prompt) return undefined;
  const { findTemplate } = await import("../prompts/index.js");
  return (await findTemplate(prompt)).groupBy;
}
