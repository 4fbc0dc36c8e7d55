/**
 * `npm run bench -- --only serve`: the service against the CLI on the same receipts, in one run.
 *
 *   service: `qwen-ocr serve` started once (its engine loaded once), N clients POSTing the
 *            receipts to /v1/ocr at the same time, each taking the next file as it finishes.
 *   CLI:     `qwen-ocr scan FILE` as a new process per file, N at a time (the same concurrency).
 *
 * Prints requests per minute and p50/p95 latency of each, and their ratios. Both use the built
 * CLI (bin/qwen-ocr.js → dist/, built by `npm ci` / `npm run build`), the same engine, and no
 * result cache (the CLI's is turned off with --no-cache; the service has none), and the texts
 * both return are checked to be the same.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { percentile, runProcess, watchPeak } from "./proc.js";

export interface ServeBenchOptions {
  root: string;
  /** ../shared/eval */
  data: string;
  engine: string;
  quick: boolean;
  /** Concurrent clients (and concurrent scan processes). */
  clients: number;
  /** The server's --concurrency (pages at once). */
  serverConcurrency: number;
}

interface Run {
  latenciesMs: number[];
  wallMs: number;
  texts: Map<string, string>;
  peakRssMb: number;
}

/** Runs `work` over the files with `n` workers, each taking the next file when it is free. */
async function pool(files: string[], n: number, work: (file: string) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, files.length) }, async () => {
      while (next < files.length) await work(files[next++]);
    }),
  );
}

function startServer(o: ServeBenchOptions): Promise<{ child: ChildProcess; url: string; startMs: number; stopPeak: () => number }> {
  const t0 = performance.now();
  const bin = path.join(o.root, "bin/qwen-ocr.js");
  const child = spawn(process.execPath, [bin, "serve", "--port", "0", "-e", o.engine, "--concurrency", String(o.serverConcurrency), "--queue", String(o.clients * 2), "-q"], {
    cwd: o.root,
    stdio: ["ignore", "ignore", "pipe"],
  });
  const stopPeak = watchPeak(child.pid!);
  return new Promise((resolve, reject) => {
    let err = "";
    child.stderr!.on("data", (c: Buffer) => {
      err += c.toString("utf8");
      const m = /serving (http:\/\/\S+?)\/? \(/.exec(err);
      if (m) resolve({ child, url: m[1], startMs: performance.now() - t0, stopPeak });
    });
    child.on("exit", (code) => reject(new Error(`qwen-ocr serve exited (${code}):\n${err}`)));
  });
}

async function benchService(o: ServeBenchOptions, files: string[]): Promise<Run & { startMs: number }> {
  const { child, url, startMs, stopPeak } = await startServer(o);
  const latenciesMs: number[] = [];
  const texts = new Map<string, string>();
  const t0 = performance.now();
  try {
    await pool(files, o.clients, async (file) => {
      const form = new FormData();
      form.append("file", new Blob([new Uint8Array(readFileSync(file))], { type: "image/jpeg" }), path.basename(file));
      const started = performance.now();
      const res = await fetch(`${url}/v1/ocr`, { method: "POST", body: form });
      const doc = (await res.json()) as { text?: string; error?: { message: string } };
      latenciesMs.push(performance.now() - started);
      if (!res.ok) throw new Error(`${path.basename(file)}: HTTP ${res.status}: ${doc.error?.message}`);
      texts.set(file, doc.text ?? "");
    });
    return { latenciesMs, wallMs: performance.now() - t0, texts, startMs, peakRssMb: stopPeak() };
  } finally {
    child.kill("SIGTERM");
  }
}

async function benchCli(o: ServeBenchOptions, files: string[]): Promise<Run> {
  const bin = path.join(o.root, "bin/qwen-ocr.js");
  const latenciesMs: number[] = [];
  const texts = new Map<string, string>();
  let peakRssMb = 0;
  const t0 = performance.now();
  await pool(files, o.clients, async (file) => {
    const started = performance.now();
    const run = await runProcess(o.root, process.execPath, [bin, "scan", file, "-e", o.engine, "-f", "json", "--no-cache", "-q"]);
    peakRssMb = Math.max(peakRssMb, run.peakRssMb);
    latenciesMs.push(performance.now() - started);
    const [doc] = JSON.parse(run.stdout) as Array<{ text: string }>;
    texts.set(file, doc.text);
  });
  return { latenciesMs, wallMs: performance.now() - t0, texts, peakRssMb };
}

function summary(run: Run) {
  const n = run.latenciesMs.length;
  return { rpm: (n / run.wallMs) * 60_000, p50: percentile(run.latenciesMs, 50), p95: percentile(run.latenciesMs, 95) };
}

export async function benchServe(o: ServeBenchOptions): Promise<void> {
  const dir = path.join(o.data, "sroie/img");
  const files = readdirSync(dir)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()
    .slice(0, o.quick ? 10 : 40)
    .map((f) => path.join(dir, f));
  if (!files.length) throw new Error(`no receipts in ${dir}`);

  console.error(`bench serve: ${files.length} receipts, ${o.clients} clients, engine ${o.engine}`);
  console.log(`### Service against the CLI (${files.length} SROIE receipts, ${o.clients} concurrent clients, ${o.engine}, ` +
    `server --concurrency ${o.serverConcurrency}; ${os.availableParallelism()} cores)\n`);

  // The CLI first: the service's figures should not benefit from a warm file cache the CLI did not have.
  const cli = await benchCli(o, files);
  const service = await benchService(o, files);

  const differ = files.filter((f) => cli.texts.get(f) !== service.texts.get(f));
  const s = summary(service);
  const c = summary(cli);
  const row = (name: string, x: { rpm: number; p50: number; p95: number }, rss: string) =>
    `| ${name} | ${x.rpm.toFixed(1)} | ${(x.p50 / 1000).toFixed(2)} s | ${(x.p95 / 1000).toFixed(2)} s | ${rss} |`;
  console.log("| | requests per minute | p50 latency | p95 latency | peak RSS |");
  console.log("|---|---:|---:|---:|---:|");
  console.log(row("qwen-ocr serve (warm engine)", s, `${service.peakRssMb.toFixed(0)} MB (one process)`));
  console.log(row("qwen-ocr scan FILE, a process per file", c, `${cli.peakRssMb.toFixed(0)} MB (each of ${o.clients})`));
  console.log("");
  console.log(`- throughput serve / scan = ${(s.rpm / c.rpm).toFixed(2)}×; latency scan / serve = ${(c.p50 / s.p50).toFixed(2)}× at p50, ${(c.p95 / s.p95).toFixed(2)}× at p95`);
  console.log(`- server start (engine loaded) ${(service.startMs / 1000).toFixed(2)} s, paid once; ` +
    `with it, the service's run takes ${((service.wallMs + service.startMs) / 1000).toFixed(1)} s against ${(cli.wallMs / 1000).toFixed(1)} s`);
  console.log(differ.length ? `- TEXT DIFFERS for ${differ.length} receipts: ${differ.map((f) => path.basename(f)).join(", ")}` : `- same text from both for all ${files.length} receipts`);
  console.log("");
  if (differ.length) process.exitCode = 1;
}

