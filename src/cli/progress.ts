import type { Writable } from "node:stream";
import type { PageRecord } from "../types.js";

/** Progress on stderr: a spinner while the engine loads, then a page bar. Only on a TTY. */
export interface Progress {
  loading(engine: string): void;
  loaded(engine: string, loadMs: number): void;
  sourceStart(source: string, pages: number): void;
  page(record: PageRecord): void;
  stop(): void;
}

const silent: Progress = { loading() {}, loaded() {}, sourceStart() {}, page() {}, stop() {} };

export interface ProgressOptions {
  stream: Writable & { isTTY?: boolean; columns?: number };
  quiet: boolean;
  env: NodeJS.ProcessEnv;
}

export async function createProgress(options: ProgressOptions): Promise<Progress> {
  // A pseudo-terminal with no size (columns 0) sends ora into an endless redraw loop.
  if (options.quiet || !options.stream.isTTY || !options.stream.columns || options.env.CI) return silent;
  const color = !("NO_COLOR" in options.env) || options.env.NO_COLOR === "";
  const [{ default: ora }, { default: cliProgress }] = await Promise.all([import("ora"), import("cli-progress")]);
  return new TtyProgress(options.stream, color, ora, cliProgress);
}

type Ora = typeof import("ora").default;
type CliProgress = typeof import("cli-progress");

class TtyProgress implements Progress {
  private spinner: ReturnType<Ora> | undefined;
  private bar: InstanceType<CliProgress["SingleBar"]> | undefined;
  private total = 0;
  private done = 0;
  private started = 0;

  constructor(
    private readonly stream: Writable,
    private readonly color: boolean,
    private readonly ora: Ora,
    private readonly cliProgress: CliProgress,
  ) {}

  loading(engine: string): void {
    this.spinner = this.ora({ text: `Loading ${engine}…`, stream: this.stream, color: this.color ? "cyan" : false }).start();
  }

  loaded(engine: string, loadMs: number): void {
    this.spinner?.stopAndPersist({ symbol: this.color ? "\u001b[32m✔\u001b[39m" : "✔", text: `${engine} ready in ${(loadMs / 1000).toFixed(1)} s` });
    this.spinner = undefined;
  }

  sourceStart(source: string, pages: number): void {
    this.total += pages;
    if (!this.bar) {
      this.started = performance.now();
      this.bar = new this.cliProgress.SingleBar(
        {
          stream: this.stream,
          format: "{bar} {value}/{total} pages | {rate} pages/s | {file}",
          barCompleteChar: "█",
          barIncompleteChar: "░",
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 20,
        },
      );
      this.bar.start(this.total, 0, { file: source, rate: "0.0" });
    } else {
      this.bar.setTotal(this.total);
      this.bar.update({ file: source });
    }
  }

  page(record: PageRecord): void {
    if (record.page === 0) return;
    this.done++;
    const seconds = (performance.now() - this.started) / 1000;
    this.bar?.update(this.done, { file: record.source, rate: (this.done / Math.max(seconds, 1e-3)).toFixed(2) });
  }

  stop(): void {
    this.spinner?.stop();
    this.bar?.stop();
  }
}
