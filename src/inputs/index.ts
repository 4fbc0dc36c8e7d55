/**
 * The `inputs/` stage: turns the command line's input arguments (files, globs, directories, `-`)
 * into an ordered, de-duplicated list of sources. Nothing here reads file contents except stdin;
 * what a file is gets decided from its bytes by `pages/` (see `sniff`).
 */
import { promises as fs, constants as fsConstants } from "node:fs";
import path from "node:path";
import { glob, isDynamicPattern } from "tinyglobby";
import { OcrError } from "../errors.js";

export { sniff, unsupportedMessage, SNIFF_BYTES } from "./sniff.js";
export type { Sniffed, ImageFormat } from "./sniff.js";

/** One input to OCR. Exactly one of `path` and `read` is set. */
export interface Source {
  /** As the user named it: the argument for files, `-` for stdin, the path relative to cwd (absolute when the glob or directory was) for files found by globs and directories. */
  name: string;
  /** Absolute path of a file. */
  path?: string;
  /** Reads the whole input (stdin); memoised, so calling it again returns the same bytes. */
  read?: () => Promise<Buffer>;
}

export interface InputError {
  /** The argument as the user wrote it. */
  source: string;
  error: OcrError;
}

/** An argument that resolved to no source, in the shape the pipeline takes (`items`). */
export interface InputFailure {
  name: string;
  error: OcrError;
}

/** A source or a failed argument, in argument order. */
export type InputItem = Source | InputFailure;

export interface ResolveOptions {
  /** Base for relative arguments; defaults to `process.cwd()`. */
  cwd?: string;
  /** What `-` reads; defaults to `process.stdin`. */
  stdin?: NodeJS.ReadableStream;
  /** Largest input accepted on stdin, in bytes; defaults to `MAX_STDIN_BYTES`. */
  maxStdinBytes?: number;
}

export interface ResolveResult {
  sources: Source[];
  errors: InputError[];
  /** Sources and failed arguments together, in argument order (what `runPipeline` takes). */
  items: InputItem[];
}

/** File extensions picked up when a directory is named (compared case-insensitively). */
export const SUPPORTED_EXTENSIONS: readonly string[] = [
  "pdf",
  "png",
  "jpg",
  "jpeg",
  "jpe",
  "jfif",
  "tif",
  "tiff",
  "webp",
  "gif",
  "avif",
  "bmp",
];

/** stdin is held in memory; refuse more than this (1 GiB) rather than exhaust it. */
export const MAX_STDIN_BYTES = 1024 ** 3;

/** Whether a file name has one of `SUPPORTED_EXTENSIONS`. */
export function hasSupportedExtension(file: string): boolean {
  const ext = path.extname(file).slice(1).toLowerCase();
  return ext !== "" && SUPPORTED_EXTENSIONS.includes(ext);
}

const collator = new Intl.Collator("en", { numeric: true });

/** Natural path order ("page2" before "page10"), ties broken by code units so it is total. */
export function comparePaths(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Resolves input arguments, in argument order, into sources. An argument that exists is a file or
 * a directory even when it contains glob characters; otherwise a dynamic pattern is a glob. Files
 * from one glob or directory come sorted by path (natural order). A file named twice (by any
 * route, symlinks included) is kept where it first appeared. Problems with one argument go to
 * `errors` and the others still resolve.
 */
export async function resolveInputs(args: readonly string[], opts: ResolveOptions = {}): Promise<ResolveResult> {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const sources: Source[] = [];
  const errors: InputError[] = [];
  const items: InputItem[] = [];
  const seen = new Set<string>();
  let stdinSource: Source | undefined;

  const add = async (name: string, absolute: string, real?: string): Promise<void> => {
    const key = real ?? (await realpathOr(absolute));
    if (seen.has(key)) return;
    seen.add(key);
    const source: Source = { name, path: absolute };
    sources.push(source);
    items.push(source);
  };
  const fail = (source: string, code: ConstructorParameters<typeof OcrError>[0], message: string): void => {
    const error = new OcrError(code, message);
    errors.push({ source, error });
    items.push({ name: source, error });
  };

  for (const arg of args) {
    if (arg === "-") {
      if (stdinSource) continue;
      const stdin = opts.stdin ?? process.stdin;
      if ((stdin as { isTTY?: boolean }).isTTY) {
        fail("-", "unreadable", "stdin is a terminal: pipe an image or PDF into it, or name a file");
        continue;
      }
      stdinSource = { name: "-", read: memoise(() => readAll(stdin, opts.maxStdinBytes ?? MAX_STDIN_BYTES)) };
      sources.push(stdinSource);
      items.push(stdinSource);
      continue;
    }
    if (arg === "") {
      fail(arg, "not_found", "no such file (empty argument)");
      continue;
    }

    const absolute = path.resolve(cwd, arg);
    const stat = await fs.stat(absolute).catch((err: NodeJS.ErrnoException) => err);
    if (!(stat instanceof Error)) {
      if (stat.isDirectory()) {
        const files = await listFiles(absolute, "**/*", cwd, arg);
        const supported = files.filter((f) => hasSupportedExtension(f.absolute));
        if (supported.length === 0) {
          fail(arg, "not_found", `no supported files in directory (looked for ${SUPPORTED_EXTENSIONS.join(", ")})`);
        }
        for (const f of supported) await add(f.name, f.absolute, f.real);
        continue;
      }
      const denied = await fs.access(absolute, fsConstants.R_OK).then(
        () => undefined,
        (err: NodeJS.ErrnoException) => err,
      );
      if (denied) {
        fail(arg, "unreadable", `cannot read: ${denied.code === "EACCES" ? "permission denied" : denied.message}`);
        continue;
      }
      await add(arg, absolute);
      continue;
    }

    if (stat.code !== "ENOENT" && stat.code !== "ENOTDIR") {
      fail(arg, "unreadable", `cannot read: ${stat.code === "EACCES" ? "permission denied" : stat.message}`);
      continue;
    }
    if (!isDynamicPattern(arg)) {
      fail(arg, "not_found", "no such file");
      continue;
    }
    const files = await listFiles(cwd, arg, cwd, arg);
    if (files.length === 0) {
      fail(arg, "not_found", "no files match");
      continue;
    }
    for (const f of files) await add(f.name, f.absolute, f.real);
  }

  return { sources, errors, items };
}

const realpathOr = (file: string): Promise<string> => fs.realpath(file).catch(() => file);

/**
 * Files under `base` matching `pattern`, sorted, named relative to cwd (absolute when `arg` was).
 * A file reached both directly and through a symlinked directory is listed by its direct path.
 */
async function listFiles(
  base: string,
  pattern: string,
  cwd: string,
  arg: string,
): Promise<Array<{ name: string; absolute: string; real: string }>> {
  const found = await glob(pattern, {
    cwd: base,
    absolute: true,
    onlyFiles: true,
    dot: false,
    expandDirectories: false,
    followSymbolicLinks: true,
  });
  const named = found.map((absolute) => {
    const file = path.normalize(absolute);
    const name = path.isAbsolute(arg) ? file : path.relative(cwd, file) || file;
    return { name, absolute: file };
  });
  named.sort((a, b) => comparePaths(a.name, b.name));
  const withReal = await Promise.all(named.map(async (f) => ({ ...f, real: await realpathOr(f.absolute) })));
  const direct = new Set(withReal.filter((f) => f.real === f.absolute).map((f) => f.real));
  return withReal.filter((f) => f.real === f.absolute || !direct.has(f.real));
}

function memoise<T>(fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= fn());
}

/** Reads a stream to its end; fails with `too_large` past `limit` bytes and `unreadable` on errors. */
export async function readAll(stream: NodeJS.ReadableStream, limit = MAX_STDIN_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      size += buf.length;
      if (size > limit) {
        (stream as { destroy?: () => void }).destroy?.();
        throw new OcrError("too_large", `input is larger than ${formatBytes(limit)}; save it to a file and name the file instead`);
      }
      chunks.push(buf);
    }
  } catch (err) {
    if (err instanceof OcrError) throw err;
    throw new OcrError("unreadable", `cannot read: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return Buffer.concat(chunks, size);
}

function formatBytes(n: number): string {
  return n >= 1024 ** 3 ? `${n / 1024 ** 3} GiB` : n >= 1024 ** 2 ? `${n / 1024 ** 2} MiB` : `${n} bytes`;
}
