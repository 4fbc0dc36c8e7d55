// `qwen-ocr serve`: the API's round trips with fake engines (fast, deterministic).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerEngine } from "../src/engines/registry.js";
import { echo } from "./fakes/engines.mjs";
import { assertDocumentRecord, assertPageRecord } from "./helpers/schema.js";
import { controlledEngine, http, makePdf, postFile, readNdjson, sample, startTestServer, type TestServer } from "./helpers/serve.js";

const held = controlledEngine("api-held", { open: false });
const parrot = controlledEngine("api-parrot", { generative: true });
let t: TestServer;

beforeAll(async () => {
  [echo, held, parrot].forEach(registerEngine);
  t = await startTestServer({ engine: "echo", maxPages: 3 });
});
afterAll(() => t.server.close());

describe("POST /v1/ocr", () => {
  it("an image as a multipart upload gives one schema-valid document; the source is the client's file name", async () => {
    const res = await postFile(t.url, "receipt.png");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const doc = await res.json();
    assertDocumentRecord(doc);
    expect(doc).toMatchObject({ source: "receipt.png", pages: 1, engine: "echo", model: "fake-echo" });
    expect(doc.records).toHaveLength(1);
    // The engine read the uploaded pixels (728x1115), not something else.
    expect(doc.records[0].text).toMatch(/^upload-[0-9a-f-]+ page 1\/1 728x1115 mean \d+$/);
    expect(doc.records[0].languages).toBeDefined();
    expect(t.logs.at(-1)).toMatch(/ POST \/v1\/ocr 200 1 page \d+ ms$/);
  });

  it("a multi-page PDF as JSON: one record per page, in order", async () => {
    const res = await postFile(t.url, "letter.pdf");
    const doc = await res.json();
    assertDocumentRecord(doc);
    expect(doc.source).toBe("letter.pdf");
    expect(doc.records.map((r: { page: number; pages: number }) => `${r.page}/${r.pages}`)).toEqual(["1/2", "2/2"]);
    expect(doc.text.split("\n\n")).toHaveLength(2);
    expect(t.logs.at(-1)).toMatch(/ 200 2 pages /);
  });

  it("NDJSON (Accept: application/x-ndjson) streams each page as it is done", async () => {
    const run = await startTestServer({ engine: "api-held" });
    try {
      // The status is decided once the first page is read: let it through.
      held.release(1);
      const res = await postFile(run.url, await makePdf(2), { filename: "scan.pdf", headers: { Accept: "application/x-ndjson" } });
      expect(res.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
      const seen: number[] = [];
      const records = await readNdjson(res, (record) => {
        seen.push(record.page as number);
        // Page 1 arrived while page 2 is still held back in the engine: let it go now.
        if (record.page === 1) void held.waitForCalls(2).then(() => held.release(1));
      });
      expect(seen).toEqual([1, 2]);
      records.forEach(assertPageRecord);
      expect(records.map((r) => r.source)).toEqual(["scan.pdf", "scan.pdf"]);
    } finally {
      await run.server.close();
    }
  });

  it("format=jsonl is NDJSON too; a raw body with its Content-Type works, named by ?filename= (path parts dropped)", async () => {
    const res = await http(`${t.url}/v1/ocr?format=jsonl&filename=${encodeURIComponent("../../etc/passwd\u202e.pdf")}`, {
      method: "POST",
      body: new Uint8Array(sample("letter.pdf")),
      headers: { "Content-Type": "application/pdf" },
    });
    expect(res.status).toBe(200);
    const records = await readNdjson(res);
    expect(records.map((r) => r.source)).toEqual(["passwd.pdf", "passwd.pdf"]);
    records.forEach(assertPageRecord);
  });

  it("a raw body is named by its Content-Disposition, else 'upload'", async () => {
    const named = await http(`${t.url}/v1/ocr`, {
      method: "POST",
      body: new Uint8Array(sample("receipt.png")),
      headers: { "Content-Type": "image/png", "Content-Disposition": "attachment; filename*=UTF-8''%E6%94%B6%E6%8D%AE.png" },
    });
    expect((await named.json()).source).toBe("收据.png");
    const unnamed = await http(`${t.url}/v1/ocr`, { method: "POST", body: new Uint8Array(sample("receipt.png")), headers: { "Content-Type": "application/octet-stream" } });
    expect((await unnamed.json()).source).toBe("upload");
  });

  it("options as multipart fields or query parameters: pages, format=text, format=markdown", async () => {
    const page2 = await (await postFile(t.url, "letter.pdf", { fields: { pages: "2" } })).json();
    expect(page2.records.map((r: { page: number }) => r.page)).toEqual([2]);
    const text = await postFile(t.url, await makePdf(2), { query: { format: "text", pages: "1" } });
    expect(text.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await text.text()).toMatch(/^upload-\S+ page 1\/2 \d+x\d+ mean \d+\n$/);
    const md = await postFile(t.url, "letter.pdf", { fields: { format: "markdown" } });
    expect(md.headers.get("content-type")).toMatch(/^text\/markdown/);
    expect((await md.text()).match(/^#{1,2} .*/gm)).toEqual(["# letter.pdf", "## Page 1 of 2", "## Page 2 of 2"]);
  });

  it("pdf_text: a PDF's own text layer by default (as scan does), every page OCRed with pdf_text=ocr", async () => {
    const auto = await (await postFile(t.url, "letter.pdf")).json();
    expect(auto.records.map((r: { origin?: string }) => r.origin)).toEqual(["text-layer", "text-layer"]);
    expect(auto.text).toMatch(/^Northwind Paper Co\./);
    const ocr = await (await postFile(t.url, "letter.pdf", { fields: { pdf_text: "ocr" } })).json();
    expect(ocr.records.map((r: { origin?: string }) => r.origin)).toEqual(["ocr", "ocr"]);
    expect(ocr.records[0].text).toMatch(/^upload-\S+ page 1\/2 1653x2339 mean \d+$/);
  });

  it("format=text with group_by=language gives the CLI's language sections", async () => {
    const res = await postFile(t.url, "receipt.png", { fields: { format: "text", group_by: "language", lang_names: "english" } });
    expect(await res.text()).toMatch(/^\[English\]\nupload-/);
  });

  it("a request may name another engine, which is loaded then kept warm", async () => {
    const before = (await (await http(`${t.url}/v1/health`)).json()).engines.find((e: { name: string }) => e.name === "api-parrot");
    expect(before.loaded).toBe(0);
    const doc = await (await postFile(t.url, "receipt.png", { fields: { engine: "api-parrot" } })).json();
    expect(doc.engine).toBe("api-parrot");
    const after = (await (await http(`${t.url}/v1/health`)).json()).engines.find((e: { name: string }) => e.name === "api-parrot");
    expect(after.loaded).toBe(1);
  });

  it("templates, variables, a language hint and a free-form instruction reach a vision-language engine", async () => {
    const grouped = await postFile(t.url, "receipt.png", { fields: { engine: "api-parrot", prompt: "grouped", lang: "zh,en" } });
    expect(grouped.status).toBe(200);
    expect(parrot.prompts.at(-1)).toMatch(/Chinese.*English/);
    const custom = await postFile(t.url, "receipt.png", { fields: { engine: "api-parrot", prompt_text: "List the {{what}} only.", var: "what=prices" } });
    expect(custom.status).toBe(200);
    expect((await custom.json()).records[0].prompt).toBe("custom");
    expect(parrot.prompts.at(-1)).toBe("List the prices only.");
  });

  it("a template the engine cannot follow, an unknown option and bad values are 400s that say why", async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ prompt: "invoice" }, /prompt 'invoice' extracts fields as JSON and needs a vision-language engine .*echo only reads the text/],
      [{ prompt: "../../etc/passwd" }, /must name a built-in template/],
      [{ prompt: "nope" }, /unknown prompt "nope" \(known: .*invoice/],
      [{ grup_by: "language" }, /unknown option 'grup_by' \(known: file, engine/],
      [{ pages: "x-" }, /invalid page selection "x-"/],
      [{ format: "xml" }, /option 'format' must be one of text, markdown, json, jsonl/],
      [{ dpi: "5000" }, /option 'dpi' must be a whole number from 36 to 600/],
      [{ pdf_text: "maybe" }, /option 'pdf_text' must be one of auto, ocr, text/],
      [{ engine: "nope" }, /unknown engine 'nope'/],
      [{ var: "novalue" }, /option 'var' expects key=value/],
    ];
    for (const [fields, message] of cases) {
      const res = await postFile(t.url, "receipt.png", { fields });
      expect(res.status, JSON.stringify(fields)).toBe(400);
      const body = await res.json();
      expect(body.error.code).toBe("bad_request");
      expect(body.error.message).toMatch(message);
    }
  });

  it("a file that is not a readable document is a 422 with the pipeline's error code", async () => {
    const text = await postFile(t.url, Buffer.from("hello, not an image\n"), { filename: "notes.png" });
    expect(text.status).toBe(422);
    expect(await text.json()).toEqual({ error: { code: "unsupported", message: "notes.png: not an image or PDF (detected: text/plain)" } });
    const truncated = await postFile(t.url, sample("letter.pdf").subarray(0, 2000), { filename: "cut.pdf" });
    expect(truncated.status).toBe(422);
    const body = await truncated.json();
    expect(body.error.code).toBe("corrupt");
    expect(body.error.message).not.toMatch(/upload-|qwen-ocr-serve-/);
  });

  it("more pages than --max-pages is a 422 naming the limit; choosing pages gets under it", async () => {
    const five = await makePdf(5);
    const res = await postFile(t.url, five, { filename: "five.pdf" });
    expect(res.status).toBe(422);
    expect(await res.json()).toEqual({
      error: { code: "too_many_pages", message: "five.pdf has 5 pages; this server reads at most 3 per request (--max-pages): choose some with 'pages', e.g. pages=1-3" },
    });
    const some = await postFile(t.url, five, { filename: "five.pdf", fields: { pages: "2-4" } });
    expect((await some.json()).records.map((r: { page: number }) => r.page)).toEqual([2, 3, 4]);
  });
});

describe("GET endpoints", () => {
  it("/v1/health: engine, model, device, queue depth, engines, limits", async () => {
    const res = await http(`${t.url}/v1/health`);
    expect(res.status).toBe(200);
    const health = await res.json();
    expect(health).toMatchObject({ status: "ok", engine: "echo", model: "fake-echo", queue: { running: 0, waiting: 0, concurrency: 1, queue: 16 }, limits: { maxPages: 3 } });
    expect(health.engines.map((e: { name: string }) => e.name)).toEqual(expect.arrayContaining(["echo", "ppocr"]));
  });

  it("/v1/templates lists the templates without server paths", async () => {
    const { templates } = await (await http(`${t.url}/v1/templates`)).json();
    const invoice = templates.find((x: { name: string }) => x.name === "invoice");
    expect(invoice).toMatchObject({ output: "json", engines: expect.arrayContaining(["qwen"]) });
    expect(JSON.stringify(templates)).not.toContain("/prompts/");
  });

  it("/v1/openapi.json is an OpenAPI 3.1 document whose references all resolve, records from the published schema", async () => {
    const doc = await (await http(`${t.url}/v1/openapi.json`)).json();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toEqual(["/v1/health", "/v1/ocr", "/v1/openapi.json", "/v1/templates"]);
    expect(Object.keys(doc.paths["/v1/ocr"].post.responses)).toEqual(expect.arrayContaining(["200", "400", "401", "413", "422", "503"]));
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of new Set(refs)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.split("/").pop()!], ref).toBeDefined();
    }
    expect(doc.components.schemas.PageRecord.required).toEqual(expect.arrayContaining(["source", "page", "text", "lines"]));
  });

  it("the web page and its files, with a content security policy; unknown paths are JSON 404s", async () => {
    const page = await http(`${t.url}/`);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
    expect(await page.text()).toContain('<script type="module" src="/app.js"></script>');
    for (const [file, type] of [["/app.js", /javascript/], ["/style.css", /text\/css/], ["/favicon.svg", /svg/]] as const) {
      expect((await http(`${t.url}${file}`)).headers.get("content-type")).toMatch(type);
    }
    const missing = await http(`${t.url}/../package.json`);
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe("not_found");
  });
});
