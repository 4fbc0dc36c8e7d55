/** Helpers shared by the benchmarks: child processes with their peak memory, and order statistics. */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

/**
 * Samples a process's peak resident memory (VmHWM, the kernel's high-water mark) from /proc while
 * it runs; the returned function stops sampling and gives the peak in MB.
 */
export function watchPeak(pid: number, everyMs = 20): () => number {
  let peakKb = 0;
  const read = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) peakKb = Math.max(peakKb, Number(m[1]));
    } catch {
      // The process has exited; keep the last reading.
    }
  };
  const timer = setInterval(read, everyMs);
  return () => {
    read();
    clearInterval(timer);
    return peakKb / 1024;
  };
}

/** Runs a command to its end in `cwd`; rejects with its stderr's tail unless it exits 0. */
export function runProcess(cwd: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; peakRssMb: number; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const stop = watchPeak(child.pid!);
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => {
      const peakRssMb = stop();
      if (code !== 0) reject(new Error(`${cmd} ${args.slice(0, 3).join(" ")} … exited ${code}: ${err.slice(-2000)}`));
      else resolve({ stdout: out, peakRssMb, wallMs: performance.now() - t0 });
    });
  });
}

/** Runs a bench worker (scripts/bench/SCRIPT) in its own process and parses the JSON it prints. */
export async function runWorker<T>(root: string, script: string, args: string[]): Promise<T & { peakRssMb: number; wallMs: number }> {
  // A .mjs worker runs on plain node; a .ts one needs the tsx loader, whose hooks slow dynamic imports.
  const loader = script.endsWith(".ts") ? ["--import", "tsx"] : [];
  const { stdout, peakRssMb, wallMs } = await runProcess(root, process.execPath, [...loader, path.join(root, "scripts/bench", script), ...args]);
  return { ...(JSON.parse(stdout) as T), peakRssMb, wallMs };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile. */
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
