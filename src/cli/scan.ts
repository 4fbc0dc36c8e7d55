import { ExitCode, type PageRecord } from "../types.js";
import { scan } from "../api.js";
import { parsePageSelection } from "../pages/index.js";
import { createWriter } from "../output/writer.js";
import { createProgress } from "./progress.js";
import { Reporter, type CliIO } from "./io.js";
import type { ScanFlags } from "./program.js";

/** `qwen-ocr scan`: runs the API's scan and writes its records, reporting failures on stderr. */
export async function runScan(args: string[], flags: ScanFlags, io: CliIO): Promise<number> {
  const reporter = new Reporter(io.stderr, !!flags.quiet);
  const pages = flags.pages === undefined ? undefined : parsePageSelection(flags.pages);
  const writer = await createWriter({ format: flags.format, output: flags.output, stdout: io.stdout, inputs: args.length });
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
        cwd: io.cwd,
        env: io.env,
        onNote: (message: string) => reporter.note(message),
      },
      plugins: flags.plugin,
      dpi: flags.dpi,
      pages,
      pageTimeoutMs: flags.pageTimeout * 1000,
      signal: interrupt.signal,
      cwd: io.cwd,
      stdin: io.stdin,
      onEvent: (event) => {
        if (event.type === "note") reporter.note(event.message);
        else if (event.type === "engine-loading") progress.loading(event.engine);
        else if (event.type === "engine-ready") progress.loaded(event.info.engine, event.loadMs);
        else if (event.type === "source-start") progress.sourceStart(event.source, event.pages);
        else if (event.type === "text") writer.delta?.(event.source, event.page, event.delta);
      },
    });
    for await (const record of records) {
      if (record.error) {
        failed = true;
        reporter.error(errorLine(record));
      }
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
  if (interrupt.signal.aborted) return ExitCode.Interrupted;
  return failed ? ExitCode.InputFailed : ExitCode.Ok;
}

/** `<path>: <reason>`, with the page named when the input has several. */
function errorLine(record: PageRecord): string {
  const where = record.page > 0 && record.pages > 1 ? `page ${record.page}: ` : "";
  return `${record.source}: ${where}${record.error?.message ?? "failed"}`;
}
