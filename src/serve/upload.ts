/**
 * Receiving the document: a multipart form (the file in the field `file`, options in other fields)
 * or a raw body with its Content-Type. The bytes go to a file with a generated name in a private
 * temporary directory; nothing from the request is ever used as a path.
 */
import { createWriteStream } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { pipeline } from "node:stream/promises";
import type { FastifyRequest } from "fastify";
import { addRaw, badRequest, RequestError, type RawOptions } from "./options.js";

export interface Upload {
  /** The private directory (mode 0700) holding the file; remove it with `discard()`. */
  dir: string;
  /** The generated file name inside `dir`. */
  file: string;
  /** The name the client gave the file, unsanitized (see `displayName`). */
  clientName?: string;
  bytes: number;
  discard(): Promise<void>;
}

export interface UploadLimits {
  maxBytes: number;
  /** Where the private directories are made; default the system's temporary directory. */
  tmpDir?: string;
}

/** Fields (options) are small; this bounds a multipart body's overhead beyond the file itself. */
const MAX_FIELDS = 32;
const MAX_FIELD_BYTES = 16 * 1024;
const MULTIPART_OVERHEAD = MAX_FIELDS * MAX_FIELD_BYTES + 64 * 1024;

export function tooLarge(limits: UploadLimits): RequestError {
  return new RequestError(413, "too_large", `the upload is larger than this server's limit of ${formatBytes(limits.maxBytes)} (--max-upload-mb)`);
}

/** Makes the private directory and receives the body into it; the options found in multipart fields are added to `raw`. */
export async function receiveUpload(request: FastifyRequest, raw: RawOptions, limits: UploadLimits): Promise<Upload> {
  const multipart = request.isMultipart();
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limits.maxBytes + (multipart ? MULTIPART_OVERHEAD : 0)) throw tooLarge(limits);

  const dir = await mkdtemp(path.join(limits.tmpDir ?? tmpdir(), "qwen-ocr-serve-"));
  await chmod(dir, 0o700);
  const file = `upload-${randomUUID()}`;
  const target = path.join(dir, file);
  const discard = () => rm(dir, { recursive: true, force: true });
  try {
    const received = multipart ? await receiveMultipart(request, raw, target, limits) : await receiveRaw(request, target, limits);
    return { dir, file, ...received, discard };
  } catch (err) {
    await discard();
    throw err;
  }
}

async function receiveMultipart(request: FastifyRequest, raw: RawOptions, target: string, limits: UploadLimits): Promise<{ clientName?: string; bytes: number }> {
  let received: { clientName?: string; bytes: number } | undefined;
  try {
    const parts = request.parts({
      limits: { fileSize: limits.maxBytes, files: 1, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES, parts: MAX_FIELDS + 1, headerPairs: 100 },
    });
    for await (const part of parts) {
      if (part.type === "file") {
        if (part.fieldname !== "file") {
          part.file.resume();
          throw badRequest(`unexpected file field '${part.fieldname}': send the document in the multipart field 'file'`);
        }
        await pipeline(part.file, createWriteStream(target, { flags: "wx", mode: 0o600 }));
        if (part.file.truncated) throw tooLarge(limits);
        received = { clientName: part.filename, bytes: part.file.bytesRead };
      } else {
        if (part.valueTruncated) throw badRequest(`field '${part.fieldname}' is longer than ${MAX_FIELD_BYTES} bytes`);
        addRaw(raw, part.fieldname, part.value);
      }
    }
  } catch (err) {
    throw multipartError(err, limits);
  }
  if (!received) throw badRequest("no file: send the document in the multipart field 'file' (or as the raw request body with its Content-Type)");
  return received;
}

/** @fastify/multipart's and busboy's errors, as the client should hear them. */
function multipartError(err: unknown, limits: UploadLimits): unknown {
  if (err instanceof RequestError) return err;
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  switch (code) {
    case "FST_REQ_FILE_TOO_LARGE":
      return tooLarge(limits);
    case "FST_FILES_LIMIT":
      return badRequest("send one file per request (the multipart field 'file')");
    case "FST_FIELDS_LIMIT":
    case "FST_PARTS_LIMIT":
      return badRequest(`too many multipart fields (at most ${MAX_FIELDS})`);
    case "FST_PROTO_VIOLATION":
      return badRequest("a multipart field has a reserved name");
    case "FST_INVALID_JSON_FIELD_ERROR":
      return badRequest("a multipart field declared as JSON is not valid JSON");
    case "FST_MP_PREMATURE_CLOSE":
      return badRequest("the request ended before the multipart body was complete");
  }
  // Busboy's own parse errors: "Unexpected end of form", "Malformed part header", "Multipart: Boundary not found", …
  return badRequest(`malformed multipart body: ${message}`);
}

async function receiveRaw(request: FastifyRequest, target: string, limits: UploadLimits): Promise<{ clientName?: string; bytes: number }> {
  const req = request.raw;
  const out = createWriteStream(target, { flags: "wx", mode: 0o600 });
  const bytes = await new Promise<number>((resolve, reject) => {
    let count = 0;
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      req.off("data", onData);
      out.destroy();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      count += chunk.length;
      if (count > limits.maxBytes) {
        // Keep reading (and discarding) the rest, so the client hears the 413 rather than a reset.
        fail(tooLarge(limits));
        req.resume();
        return;
      }
      if (!out.write(chunk)) {
        req.pause();
        out.once("drain", () => req.resume());
      }
    };
    req.on("data", onData);
    req.once("end", () => {
      if (settled) return;
      out.end(() => {
        settled = true;
        resolve(count);
      });
    });
    req.once("aborted", () => fail(badRequest("the request ended before its body was complete")));
    req.once("error", fail);
    out.once("error", fail);
  });
  if (bytes === 0) throw badRequest("no file: the request body is empty (send the document as the body, or in the multipart field 'file')");
  return { clientName: contentDispositionName(request.headers["content-disposition"]), bytes };
}

/** `filename*=UTF-8''…` or `filename="…"` of a Content-Disposition header. */
export function contentDispositionName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      /* fall through to the plain parameter */
    }
  }
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/.exec(header);
  return plain ? (plain[1]?.replace(/\\(.)/g, "$1") ?? plain[2]) : undefined;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}
