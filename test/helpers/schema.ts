import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv } from "ajv";
import { ROOT } from "./cli.js";

const schema = JSON.parse(readFileSync(path.join(ROOT, "schema/page.schema.json"), "utf8")) as object;
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addSchema(schema, "page");

const pageRecord = ajv.getSchema("page#/definitions/PageRecord")!;
const documentRecord = ajv.getSchema("page#/definitions/DocumentRecord")!;

/** Throws with ajv's explanation when a record does not match the published schema. */
export function assertPageRecord(value: unknown): void {
  if (!pageRecord(value)) throw new Error(`not a valid PageRecord: ${ajv.errorsText(pageRecord.errors)}\n${JSON.stringify(value).slice(0, 500)}`);
}

export function assertDocumentRecord(value: unknown): void {
  if (!documentRecord(value)) throw new Error(`not a valid DocumentRecord: ${ajv.errorsText(documentRecord.errors)}`);
}
