import { promises as fs } from "node:fs";
import { OcrError } from "../errors.js";
import { SNIFF_BYTES } from "../inputs/sniff.js";
import type { Source } from "../inputs/index.js";
import { readAll } from "../inputs/index.js";

/**
 * Where an input's bytes are: a regular file read by path (never loaded whole here), or a buffer
 * (stdin, pipes, devices: anything that cannot be re-read or seeked).
 */
export type Loaded =
  | { where: "file"; path: string; size: number; head: Buffer }
  | { where: "memory"; bytes: Buffer; size: number; head: Buffer };

/** Opens a source far enough to sniff it: the first `SNIFF_BYTES` of a file, or all of stdin. */
export async function loadSource(source: Source): Promise<Loaded> {
  if (source.read) {
    const bytes = await source.read();
    if (bytes.length === 0) throw new OcrError("empty", "empty input (0 bytes)");
    return { where: "memory", bytes, size: bytes.length, head: bytes.subarray(0, SNIFF_BYTES) };
  }
  if (!source.path) throw new OcrError("unreadable", "source has neither a path nor a reader");
  const path = source.path;
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, "r");
  } catch (err) {
    throw fileError(err);
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new OcrError("unreadable", "is a directory");
    if (!stat.isFile()) {
      // A pipe or a device (e.g. `<(curl ...)`): read it to the end, like stdin.
      const bytes = await readAll(handle.createReadStream({ autoClose: false }));
      if (bytes.length === 0) throw new OcrError("empty", "empty input (0 bytes)");
      return { where: "memory", bytes, size: bytes.length, head: bytes.subarray(0, SNIFF_BYTES) };
    }
    if (stat.size === 0) throw new OcrError("empty", "empty file (0 bytes)");
    const head = Buffer.alloc(Math.min(SNIFF_BYTES, stat.size));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return { where: "file", path, size: stat.size, head: head.subarray(0, bytesRead) };
  } catch (err) {
    throw err instanceof OcrError ? err : fileError(err);
  } finally {
    await handle.close().catch(() => {});
  }
}

/** The whole input as a buffer (reads a file; returns the buffer already held otherwise). */
export async function loadBytes(loaded: Loaded): Promise<Buffer> {
  if (loaded.where === "memory") return loaded.bytes;
  try {
    return await fs.readFile(loaded.path);
  } catch (err) {
    throw fileError(err);
  }
}

/** Maps a file system error to `not_found` / `unreadable`. */
export function fileError(err: unknown): OcrError {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case "ENOENT":
      return new OcrError("not_found", "no such file", { cause: err });
    case "EACCES":
    case "EPERM":
      return new OcrError("unreadable", "cannot read: permission denied", { cause: err });
    case "EISDIR":
      return new OcrError("unreadable", "is a directory", { cause: err });
    default:
      return new OcrError("unreadable", `cannot read: ${e?.message ?? String(err)}`, { cause: err });
  }
}
