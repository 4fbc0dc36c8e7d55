import type { DocumentRecord, PageRecord } from "../types.js";

/** Wraps one source's page records into the JSON format's document. */
export function toDocument(records: PageRecord[]): DocumentRecord {
  const first = records[0];
  if (!first) throw new Error("a document needs at least one record");
  const failed = records.find((r) => r.error);
  const pages = Math.max(0, ...records.map((r) => r.pages));
  const doc: DocumentRecord = {
    source: first.source,
    pages,
    engine: first.engine,
    model: first.model,
    text: joinPages(records),
    records,
  };
  if (failed?.error) {
    doc.error = failed.page > 0
      ? { code: failed.error.code, message: `page ${failed.page}: ${failed.error.message}` }
      : failed.error;
  }
  return doc;
}

export function joinPages(records: PageRecord[]): string {
  return records.filter((r) => !r.error).map((r) => r.text).join("\n\n");
}
