import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { BIN, ROOT, TEST_ENV } from "./cli.js";

export interface Running {
  child: ChildProcessWithoutNullStreams;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** Resolves once stdout has at least `n` complete lines. */
  lines(n: number): Promise<void>;
}

/** Starts the built CLI and lets a test act on it while it runs (signals, kills). */
export function start(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...TEST_ENV, ...opts.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stdin.end();
  let stdout = "";
  let stderr = "";
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const check = () => {
    const count = stdout.split("\n").length - 1;
    for (const w of waiters.splice(0)) {
      if (count >= w.n) w.resolve();
      else waiters.push(w);
    }
  };
  child.stdout.on("data", (c: Buffer) => {
    stdout += c.toString("utf8");
    check();
  });
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      for (const w of waiters.splice(0)) w.resolve();
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    done,
    lines: (n) =>
      new Promise<void>((resolve) => {
        waiters.push({ n, resolve });
        check();
      }),
  };
}

/** Polls until `condition` holds (or `timeoutMs` passes). */
export async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
