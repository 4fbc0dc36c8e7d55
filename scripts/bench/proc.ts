/** Helpers shared by the benchmarks: a child's peak memory and order statistics. */
import { readFileSync } from "node:fs";

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
