/**
 * Generates schema/page.schema.json from the record types in src/types.ts, so the published
 * schema cannot drift from the code: `npm run schema` writes it, test/schema.test.ts checks it.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { createGenerator } from "ts-json-schema-generator";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const SCHEMA_PATH = path.join(root, "schema", "page.schema.json");

export function generateSchema(): object {
  const generator = createGenerator({
    path: path.join(root, "src", "types.ts"),
    tsconfig: path.join(root, "tsconfig.json"),
    expose: "export",
    topRef: true,
    jsDoc: "extended",
    additionalProperties: false,
    skipTypeCheck: true,
  });
  const collected: Record<string, unknown> = {};
  for (const type of ["PageRecord", "DocumentRecord"]) {
    const part = generator.createSchema(type) as { definitions?: Record<string, unknown> };
    Object.assign(collected, part.definitions);
  }
  const definitions = Object.fromEntries(Object.keys(collected).sort().map((name) => [name, collected[name]]));
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://github.com/qwen-ocr/qwen-ocr/schema/page.schema.json",
    title: "qwen-ocr result record",
    description: "A JSONL line is a PageRecord; the JSON format is an array of DocumentRecord (one per input).",
    oneOf: [{ $ref: "#/definitions/PageRecord" }, { $ref: "#/definitions/DocumentRecord" }],
    definitions,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(SCHEMA_PATH, `${JSON.stringify(generateSchema(), null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), SCHEMA_PATH)}`);
}
