import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { generateSchema, SCHEMA_PATH } from "../scripts/schema.js";
import { assertPageRecord } from "./helpers/schema.js";

describe("schema/page.schema.json", () => {
  it("is exactly what src/types.ts generates (run `npm run schema` after changing the record types)", () => {
    const committed = JSON.parse(readFileSync(SCHEMA_PATH, "utf8"));
    expect(committed).toEqual(generateSchema());
  });

  it("rejects a record that breaks the contract", () => {
    const good = { source: "a.png", page: 1, pages: 1, engine: "x", model: "y", text: "hi", lines: [], timings: { rasterizeMs: 1, inferMs: 1, totalMs: 2 }, warnings: [] };
    expect(() => assertPageRecord(good)).not.toThrow();
    expect(() => assertPageRecord({ ...good, finish: "maybe" })).toThrow(/finish/);
    expect(() => assertPageRecord({ ...good, lines: [{ text: "x", bbox: [1, 2, 3] }] })).toThrow();
    expect(() => assertPageRecord({ ...good, error: { code: "nope", message: "m" } })).toThrow();
    const { text: _text, ...withoutText } = good;
    expect(() => assertPageRecord(withoutText)).toThrow(/text/);
  });
});
