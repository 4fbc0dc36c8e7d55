import os from "node:os";
import { UsageError } from "../errors.js";
import { ExitCode } from "../types.js";
import { Reporter, type CliIO } from "./io.js";

export interface ServeFlags {
  host: string;
  port: number;
  tokenEnv?: string;
  maxUploadMb: number;
  maxPages: number;
  concurrency: number;
  queue: number;
  engine: string;
  plugin?: string[];
  dpi: number;
  threads?: number;
  pageTimeout: number;
  model?: string;
  modelDir?: string;
  dtype?: string;
  device: string;
  maxNewTokens?: number;
  maxPixels?: number;
  offline?: boolean;
  quiet?: boolean;
}

/**
 * `qwen-ocr serve`: loads the engine, serves until SIGTERM or SIGINT (a second one stops the
 * requests still running after their page in flight), and returns the exit code.
 */
export async function runServe(flags: ServeFlags, io: CliIO): Promise<number> {
  const reporter = new Reporter(io.stderr, !!flags.quiet);
  let token: string | undefined;
  if (flags.tokenEnv !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(flags.tokenEnv)) throw new UsageError(`--token-env takes the name of an environment variable, got '${flags.tokenEnv}'`);
    token = io.env[flags.tokenEnv];
    if (!token) throw new UsageError(`--token-env ${flags.tokenEnv}: the variable is not set or empty`);
    if (token.length < 16) reporter.error(`warning: the token in ${flags.tokenEnv} is short (${token.length} characters); use 16 or more random characters`);
  }

  const { startServer, DEFAULTS } = await import("../serve/server.js");
  const { isLoopback } = await import("../serve/auth.js");
  if (!isLoopback(flags.host) && !token) {
    reporter.error(`warning: serving on ${flags.host} without a token: anyone who can reach this machine can use it (set one with --token-env VAR)`);
  }
  // Instances share the cores unless told otherwise.
  const threads = flags.threads ?? (flags.concurrency > 1 ? Math.max(1, Math.floor(os.availableParallelism() / flags.concurrency)) : undefined);

  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({
      host: flags.host,
      port: flags.port,
      token,
      maxUploadBytes: flags.maxUploadMb * 1024 * 1024,
      maxPages: flags.maxPages,
      concurrency: flags.concurrency,
      queue: flags.queue,
      engine: flags.engine,
      engineOptions: {
        threads,
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
      pageTimeoutMs: (flags.pageTimeout ?? DEFAULTS.pageTimeoutS) * 1000,
      cwd: io.cwd,
      log: flags.quiet ? undefined : (line) => io.stderr.write(`${line}\n`),
      onNote: (message) => reporter.note(message),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new UsageError(`${flags.host}:${flags.port} is already in use (choose another port with --port)`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") throw new UsageError(`cannot listen on ${flags.host}: no such address on this machine`);
    if (code === "EACCES") throw new UsageError(`not allowed to listen on ${flags.host}:${flags.port} (ports below 1024 need privileges)`);
    throw err;
  }

  const { info } = server;
  const engine = [info.engine, info.model, info.dtype, info.device].filter(Boolean).join(", ");
  io.stderr.write(
    `qwen-ocr: serving ${server.url} (engine ${engine}; ${flags.concurrency} at a time, ${flags.queue} waiting at most${token ? "; token required" : ""})\n`,
  );

  let signals = 0;
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        const { running, waiting } = server.health().queue;
        reporter.note(`${signal}: shutting down${running + waiting ? ` after the ${running} request${running === 1 ? "" : "s"} running (new and waiting ones get 503; ${signal} again to stop after the pages in flight)` : ""}`);
        server.shutdown().then(resolve, resolve);
      } else {
        reporter.note(`${signal}: stopping the running requests after their pages in flight`);
        server.close().then(resolve, resolve);
      }
    };
    if (io.handleSignals) {
      process.on("SIGTERM", onSignal);
      process.on("SIGINT", onSignal);
    }
  });
  return signals > 1 ? ExitCode.Interrupted : ExitCode.Ok;
}
