import { PassThrough, Readable } from "node:stream";
import { spawn } from "node:child_process";
import path from "node:path";
import { main } from "../../src/cli/program.js";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const BIN = path.join(ROOT, "bin/qwen-ocr.js");
export const SHARED = path.resolve(ROOT, "../shared");

/**
 * Tests run without the result cache (a page read by one test would come back cached in the
 * next); tests of the cache turn it on with `QWEN_OCR_CACHE: "1"` and a QWEN_OCR_HOME of their own.
 */
export const TEST_ENV: NodeJS.ProcessEnv = { QWEN_OCR_CACHE: "0" };

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function collect(stream: PassThrough): () => string {
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(Buffer.from(c)));
  return () => Buffer.concat(chunks).toString("utf8");
}

/** Runs the CLI in this process (fast; fake engines can be registered directly). */
export async function runCli(args: string[], opts: { cwd?: string; stdin?: Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out = collect(stdout);
  const err = collect(stderr);
  const code = await main(args, {
    stdout,
    stderr,
    stdin: Readable.from(opts.stdin ? [opts.stdin] : []),
    cwd: opts.cwd ?? ROOT,
    env: { ...TEST_ENV, ...opts.env },
  });
  return { code, stdout: out(), stderr: err() };
}

/** Runs the built bin as a user would, in a child process. */
export function spawnCli(args: string[], opts: { cwd?: string; stdin?: Buffer; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...TEST_ENV, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
      timeout: opts.timeoutMs ?? 120_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }),
    );
    child.stdin.end(opts.stdin ?? undefined);
  });
}
