import { createWriteStream, promises as fs, type WriteStream } from "node:fs";
import path from "node:path";
import type { Writable } from "node:stream";
import { once } from "node:events";
import { writeFileAtomic, tempName } from "./atomic.js";
import { toDocument } from "./document.js";
import { createFormatter, EXTENSIONS, type Format, type Formatter, type FormatterOptions } from "./format.js";
import type { PageRecord } from "../types.js";

/** Where results go: consumes page records in input order and finishes the output(s) at the end. */
export interface OutputWriter {
  write(record: PageRecord): Promise<void>;
  /** Completes the output; after an interruption, what was written so far is kept. */
  close(): Promise<void>;
  /** The run failed as a whole (e.g. a usage error): leave no output file behind. */
  abort(): Promise<void>;
  /** Shows text of a page still being generated, where the format and destination allow. */
  delta?(source: string, page: number, text: string): void;
  /** Paths of the files written so far (empty for stdout). */
  readonly files: string[];
  /** One file per input: gives every input its file name up front, in input order (names stay the same whatever is skipped). */
  plan?(sources: string[]): void;
  /** One file per input: whether the input's output file is already there. */
  exists?(source: string): Promise<boolean>;
  /** The run stopped before this input's last page: its file is not written (a re-run completes it). */
  incomplete?(source: string): void;
}

export interface WriterOptions {
  format: Format;
  /** A file, or a directory (ends with a path separator, or already is one); stdout when absent. */
  output?: string;
  stdout: Writable;
  /** Number of inputs, which decides how text output frames them. */
  inputs: number;
  /** Text and Markdown sections per language; see `FormatterOptions`. */
  groupBy?: FormatterOptions["groupBy"];
  langNames?: FormatterOptions["langNames"];
}

export async function createWriter(options: WriterOptions): Promise<OutputWriter> {
  const { output } = options;
  const formatting: FormatterOptions = { multiple: options.inputs > 1, groupBy: options.groupBy, langNames: options.langNames };
  if (!output || output === "-") return new StreamWriter(options.stdout, createFormatter(options.format, formatting));
  if (await isDirectoryTarget(output)) return new DirectoryWriter(output, options.format, { ...formatting, multiple: false });
  return FileWriter.open(output, createFormatter(options.format, formatting));
}

/** Whether `-o` names a directory (one file per input) rather than a file. */
export async function isDirectoryTarget(output: string): Promise<boolean> {
  if (output.endsWith("/") || output.endsWith(path.sep)) return true;
  const stat = await fs.stat(output).catch(() => undefined);
  return !!stat?.isDirectory();
}

async function writeChunk(stream: Writable, chunk: string): Promise<void> {
  // A stream that failed (a closed pipe) takes further writes without complaint: stop the run instead
  // of reading the remaining inputs into nowhere.
  if (stream.errored) throw stream.errored;
  if (!chunk) return;
  if (!stream.write(chunk)) await once(stream, "drain");
}

class StreamWriter implements OutputWriter {
  readonly files: string[] = [];
  constructor(private readonly stream: Writable, private readonly formatter: Formatter) {}

  write(record: PageRecord): Promise<void> {
    return writeChunk(this.stream, this.formatter.record(record));
  }

  delta(source: string, page: number, text: string): void {
    // Streamed text is small and the record that follows waits for drain, so no await here.
    const chunk = this.formatter.delta?.(source, page, text);
    if (chunk) this.stream.write(chunk);
  }

  close(): Promise<void> {
    return writeChunk(this.stream, this.formatter.end());
  }

  async abort(): Promise<void> {}
}

/** One output file, streamed into a temp file and renamed into place when complete. */
class FileWriter implements OutputWriter {
  readonly files: string[];
  private constructor(
    private readonly target: string,
    private readonly temp: string,
    private readonly stream: WriteStream,
    private readonly formatter: Formatter,
  ) {
    this.files = [target];
  }

  static async open(target: string, formatter: Formatter): Promise<FileWriter> {
    await fs.mkdir(path.dirname(path.resolve(target)), { recursive: true });
    const temp = tempName(path.resolve(target));
    const stream = createWriteStream(temp);
    await once(stream, "open");
    return new FileWriter(target, temp, stream, formatter);
  }

  write(record: PageRecord): Promise<void> {
    return writeChunk(this.stream, this.formatter.record(record));
  }

  async close(): Promise<void> {
    await writeChunk(this.stream, this.formatter.end());
    this.stream.end();
    await once(this.stream, "close");
    await fs.rename(this.temp, this.target);
  }

  async abort(): Promise<void> {
    this.stream.end();
    await once(this.stream, "close");
    await fs.rm(this.temp, { force: true });
  }
}

/** `-o DIR/`: one file per input, named after it, written whole when its last page is done. */
class DirectoryWriter implements OutputWriter {
  readonly files: string[] = [];
  private pending: PageRecord[] = [];
  private readonly taken = new Set<string>();
  private readonly planned = new Map<string, string>();
  private readonly cut = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly format: Format,
    private readonly formatting: FormatterOptions,
  ) {}

  async write(record: PageRecord): Promise<void> {
    if (this.pending.length && this.pending[0].source !== record.source) await this.flush();
    this.pending.push(record);
  }

  async close(): Promise<void> {
    await this.flush();
  }

  async abort(): Promise<void> {
    this.pending = [];
  }

  plan(sources: string[]): void {
    for (const source of sources) if (!this.planned.has(source)) this.planned.set(source, this.fileFor(source));
  }

  async exists(source: string): Promise<boolean> {
    const file = this.planned.get(source) ?? path.join(this.dir, this.candidates(source)[0]!);
    return fs.access(file).then(
      () => true,
      () => false,
    );
  }

  incomplete(source: string): void {
    this.cut.add(source);
  }

  private async flush(): Promise<void> {
    const records = this.pending;
    this.pending = [];
    if (!records.length) return;
    // Plain text carries no errors (they are on stderr), so a failed input gets no empty file.
    if (this.format === "text" && records.every((r) => r.error)) return;
    // An input cut short by an interruption gets no file, so that --skip-existing does not skip it next time.
    if (this.cut.has(records[0].source)) return;
    const file = this.planned.get(records[0].source) ?? this.fileFor(records[0].source);
    await writeFileAtomic(file, this.render(records));
    this.files.push(file);
  }

  private render(records: PageRecord[]): string {
    if (this.format === "json") return `${JSON.stringify(toDocument(records), null, 2)}\n`;
    const formatter = createFormatter(this.format, this.formatting);
    return records.map((r) => formatter.record(r)).join("") + formatter.end();
  }

  /** `scans/a.png` → `DIR/a.txt`; a second input with the same stem keeps its extension (`a.pdf.txt`). */
  private candidates(source: string): string[] {
    const base = source === "-" ? "stdin" : path.basename(source);
    const stem = base.replace(/\.[^.]+$/, "") || base;
    const ext = EXTENSIONS[this.format];
    return [`${stem}${ext}`, `${base}${ext}`];
  }

  private fileFor(source: string): string {
    const base = source === "-" ? "stdin" : path.basename(source);
    const stem = base.replace(/\.[^.]+$/, "") || base;
    const ext = EXTENSIONS[this.format];
    const candidates = this.candidates(source);
    for (let i = 2; ; i++) {
      const name = candidates.shift() ?? `${stem}-${i}${ext}`;
      if (!this.taken.has(name)) {
        this.taken.add(name);
        return path.join(this.dir, name);
      }
    }
  }
}
