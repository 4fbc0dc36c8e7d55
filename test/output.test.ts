import { describe, expect, it } from "vitest";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { createFormatter } from "../src/output/format.js";
import { createWriter } from "../src/output/writer.js";
import type { PageRecord } from "../src/types.js";
import { assertDocumentRecord, assertPageRecord } from "./helpers/schema.js";

function rec(source: string, page: number, pages: number, text: string, error?: PageRecord["error"]): PageRecord {
  return { source, page, pages, engine: "e", model: "m", text, lines: text ? [{ text }] : [], finish: "stop", timings: { rasterizeMs: 1, inferMs: 2, totalMs: 3 }, warnings: [], ...(error ? { error } : {}) };
}

const records = [rec("a.pdf", 1, 2, "alpha"), rec("a.pdf", 2, 2, "beta"), rec("b.png", 0, 0, "", { code: "corrupt", message: "truncated PNG" }), rec("c.png", 1, 1, "gamma")];

function render(format: "text" | "markdown" | "json" | "jsonl", multiple = true): string {
  const f = createFormatter(format, { multiple });
  return records.map((r) => f.record(r)).join("") + f.end();
}

describe("formatters", () => {
  it("text: page texts, documents framed like head(1) when several share stdout, failures left to stderr", () => {
    expect(render("text")).toBe("==> a.pdf <==\nalpha\n\nbeta\n\n==> b.png <==\n\n==> c.png <==\ngamma\n");
    const single = createFormatter("text", { multiple: false });
    expect(single.record(rec("x.png", 1, 1, "only")) + single.end()).toBe("only\n");
  });

  it("text: streamed text of a generating page is shown as it comes, and the record adds only the rest", () => {
    const f = createFormatter("text", { multiple: true });
    let out = f.delta!("a.png", 1, "Hel") + f.delta!("a.png", 1, "lo");
    out += f.record(rec("a.png", 1, 2, "Hello"));
    out += f.delta!("a.png", 2, "Wor") + f.record(rec("a.png", 2, 2, "World!"));
    out += f.record(rec("b.png", 1, 1, "plain"));
    expect(out).toBe("==> a.png <==\nHello\n\nWorld!\n\n==> b.png <==\nplain\n");
  });

  it("markdown: a heading per document and per page, failures shown in place", () => {
    const md = render("markdown");
    expect(md).toContain("# a.pdf\n\n## Page 1 of 2\n\nalpha\n\n## Page 2 of 2\n\nbeta\n");
    expect(md).toContain("# b.png\n\n> **Error** (corrupt): truncated PNG\n");
    expect(md).toContain("# c.png\n\n## Page 1 of 1\n\ngamma\n");
  });

  it("jsonl: one schema-valid record per line, in order", () => {
    const lines = render("jsonl").trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => `${l.source}#${l.page}`)).toEqual(["a.pdf#1", "a.pdf#2", "b.png#0", "c.png#1"]);
    lines.forEach(assertPageRecord);
  });

  it("json: an array with one document per input wrapping its pages", () => {
    const docs = JSON.parse(render("json"));
    expect(docs).toHaveLength(3);
    docs.forEach(assertDocumentRecord);
    expect(docs[0]).toMatchObject({ source: "a.pdf", pages: 2, text: "alpha\n\nbeta" });
    expect(docs[0].records).toHaveLength(2);
    expect(docs[1].error).toEqual({ code: "corrupt", message: "truncated PNG" });
    expect(JSON.parse(createFormatter("json", { multiple: false }).end())).toEqual([]);
  });
});

describe("writers", () => {
  it("-o DIR/ writes one file per input, named after it, keeping both of two inputs with the same stem", async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), "qocr-out-")), "out/");
    const writer = await createWriter({ format: "json", output: dir, stdout: new PassThrough(), inputs: 3 });
    for (const r of [rec("x/a.png", 1, 1, "one"), rec("y/a.pdf", 1, 1, "two"), rec("-", 1, 1, "three")]) await writer.write(r);
    await writer.close();
    expect(readdirSync(dir).sort()).toEqual(["a.json", "a.pdf.json", "stdin.json"]);
    const doc = JSON.parse(readFileSync(path.join(dir, "a.pdf.json"), "utf8"));
    assertDocumentRecord(doc);
    expect(doc.text).toBe("two");
  });

  it("-o FILE appears only when complete, and not at all when the run aborts", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "qocr-out-"));
    const file = path.join(dir, "result.txt");
    const writer = await createWriter({ format: "text", output: file, stdout: new PassThrough(), inputs: 1 });
    await writer.write(rec("a.png", 1, 1, "hello"));
    expect(readdirSync(dir).filter((f) => f === "result.txt")).toEqual([]);
    await writer.close();
    expect(readFileSync(file, "utf8")).toBe("hello\n");

    const aborted = await createWriter({ format: "text", output: path.join(dir, "never.txt"), stdout: new PassThrough(), inputs: 1 });
    await aborted.write(rec("a.png", 1, 1, "hello"));
    await aborted.abort();
    expect(readdirSync(dir)).toEqual(["result.txt"]);
  });
});
