// The service with the real ppocr engine: its records are the library's scan() records for the
// same file (the service runs that pipeline, with a warm engine), JSON and NDJSON alike.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { scan } from "../src/api.js";
import type { PageRecord } from "../src/types.js";
import { assertDocumentRecord, assertPageRecord } from "./helpers/schema.js";
import { postFile, readNdjson, SAMPLES, startTestServer, type TestServer } from "./helpers/serve.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ engine: "ppocr" });
});
afterAll(() => t.server.close());

async function library(file: string): Promise<PageRecord[]> {
  const out: PageRecord[] = [];
  for await (const record of scan([path.join(SAMPLES, file)], { engine: "ppocr", languages: {} })) out.push(record);
  return out;
}

describe("serve with ppocr", () => {
  it("the receipt as JSON: the same text, lines and language groups as scan()", async () => {
    const res = await postFile(t.url, "receipt.png");
    expect(res.status).toBe(200);
    const doc = await res.json();
    assertDocumentRecord(doc);
    const [expected] = await library("receipt.png");
    expect(doc.source).toBe("receipt.png");
    expect(doc.text).toBe(expected.text);
    expect(doc.text).toMatch(/^GREENLEAF MARKET\n/);
    expect(doc.records[0].lines).toEqual(expected.lines);
    expect(doc.records[0].languages).toEqual(expected.languages);
    expect(doc.records[0]).toMatchObject({ engine: "ppocr", model: expected.model, device: "cpu", width: 728, height: 1115, finish: "stop" });
  });

  it("the menu as NDJSON, twice: the same records, from one engine kept loaded", async () => {
    const [expected] = await library("menu-zh-en-ja.png");
    for (let i = 0; i < 2; i++) {
      const records = await readNdjson(await postFile(t.url, "menu-zh-en-ja.png", { headers: { Accept: "application/x-ndjson" } }));
      expect(records).toHaveLength(1);
      assertPageRecord(records[0]);
      expect(records[0].text).toBe(expected.text);
    }
    // Speed of a warm engine is measured by `npm run bench -- --only serve`, not asserted here.
    expect(t.server.health().engines.find((e) => e.name === "ppocr")?.loaded).toBe(1);
  });
});
