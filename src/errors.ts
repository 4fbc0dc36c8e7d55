import type { ErrorCode, RecordError } from "./types.js";

/**
 * An error that belongs to one input or page. The pipeline turns it into an error record and a
 * `qwen-ocr: <source>: <message>` line, then goes on with the other inputs.
 */
export class OcrError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OcrError";
    this.code = code;
  }

  toRecord(): RecordError {
    return { code: this.code, message: this.message };
  }
}

/** A failure of the command itself (bad flags, missing model): not tied to one input. */
export class UsageError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = "UsageError";
    this.exitCode = exitCode;
  }
}

/** Wraps anything thrown by a stage into an OcrError, keeping the message readable on one line. */
export function toOcrError(err: unknown, fallback: ErrorCode): OcrError {
  if (err instanceof OcrError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new OcrError(fallback, oneLine(message), { cause: err });
}

/** Error messages end up on one stderr line: collapse newlines and runs of whitespace. */
export function oneLine(message: string): string {
  return message.replace(/\s+/g, " ").trim();
}
