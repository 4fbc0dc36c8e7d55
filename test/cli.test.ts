import { beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { registerEngine } from "../src/engines/registry.js";
import { crash, echo, empty, flaky, hang } from "./fakes/engines.mjs";
import { ROOT, runCli, spawnCli } from "./helpers/cli.js";
import { assertDocumentRecord, assertPageRecord } from "./helpers/schema.js";

const samples = path.join(ROOT, "fixtures/samples");
let dir: string;

beforeAll(() => {
  [echo, crash, flaky, hang, empty].forEach(registerEngine);
  dir = mkdtempSync(path.join(tmpdir(), "qocr-cli-"));
  mkdirSync(path.join(dir, "scans/nested"), { recursive: true });
  copyFileSync(path.join(samples, "receipt.png"), path.join(dir, "scans/b-receipt.png"));
  copyFileSync(path.join(samples, "menu-zh-en-ja.png"), path.join(dir, "scans/nested/a-menu.png"));
  copyFileSync(path.join(samples, "letter.pdf"), path.join(dir, "scans/c-letter.pdf"));
  writeFileSync(path.join(dir, "scans/notes.txt"), "not an image, and not picked up from a directory");
  const png = readFileSync(path.join(samples, "receipt.png"));
  const pdf = readFileSync(path.join(samples, "letter.pdf"));
  writeFileSync(path.join(dir, "empty.png"), "");
  writeFileSync(path.join(dir, "text.png"), "hello, I am a text file with a .png name\n");
  writeFileSync(path.join(dir, "truncated.png"), png.subarray(0, Math.floor(png.length / 3)));
  writeFileSync(path.join(dir, "truncated.pdf"), pdf.subarray(0, Math.floor(pdf.length / 2)));
  copyFileSync(path.join(ROOT, "fixtures/broken/encrypted.pdf"), path.join(dir, "encrypted.pdf"));
});

const jsonl = (stdout: string) => stdout.trimEnd().split("\n").filter(Boolean).map((l) => JSON.parse(l));

describe("inputs", () => {
  it("reads a quoted glob, a directory (recursively, supported files only) and de-duplicates, in a stable order", async () => {
    const { code, stdout, stderr } = await runCli(["scan", "scans/**/*.png", "scans", "scans/b-receipt.png", "-e", "echo", "-f", "jsonl"], { cwd: dir });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const records = jsonl(stdout);
    records.forEach(assertPageRecord);
    expect(records.map((r) => `${r.source}#${r.page}`)).toEqual([
      "scans/b-receipt.png#1",
      "scans/nested/a-menu.png#1",
      "scans/c-letter.pdf#1",
      "scans/c-letter.pdf#2",
    ]);
  });

  it("reads stdin for -, sniffing the type from the bytes", async () => {
    const { code, stdout } = await runCli(["scan", "-", "-e", "echo", "-f", "jsonl"], { stdin: readFileSync(path.join(samples, "letter.pdf")) });
    expect(code).toBe(0);
    expect(jsonl(stdout).map((r) => `${r.source}#${r.page}/${r.pages}`)).toEqual(["-#1/2", "-#2/2"]);
  });

  it("--pages picks pages of every input", async () => {
    const { code, stdout } = await runCli(["scan", "fixtures/samples/letter.pdf", "fixtures/samples/receipt.png", "--pages", "2-", "-e", "echo", "-f", "jsonl"]);
    expect(code).toBe(0);
    expect(jsonl(stdout).map((r) => `${path.basename(r.source)}#${r.page}`)).toEqual(["letter.pdf#2"]);
  });
});

describe("formats", () => {
  const inputs = ["fixtures/samples/receipt.png", "fixtures/samples/letter.pdf"];

  it("json: one schema-valid document per input, wrapping its pages", async () => {
    const { code, stdout } = await runCli(["scan", ...inputs, "-e", "echo", "-f", "json"]);
    expect(code).toBe(0);
    const docs = JSON.parse(stdout);
    docs.forEach(assertDocumentRecord);
    expect(docs.map((d: { source: string; records: unknown[] }) => [d.source, d.records.length])).toEqual([
      ["fixtures/samples/receipt.png", 1],
      ["fixtures/samples/letter.pdf", 2],
    ]);
  });

  it("markdown: a heading per document and per page", async () => {
    const { stdout } = await runCli(["scan", ...inputs, "-e", "echo", "-f", "markdown"]);
    expect(stdout.match(/^#{1,2} .*/gm)).toEqual([
      "# fixtures/samples/receipt.png",
      "## Page 1 of 1",
      "# fixtures/samples/letter.pdf",
      "## Page 1 of 2",
      "## Page 2 of 2",
    ]);
  });

  it("text: the pages' text, each input headed when there are several", async () => {
    const { stdout } = await runCli(["scan", ...inputs, "-e", "echo"]);
    expect(stdout).toMatch(/^==> fixtures\/samples\/receipt\.png <==\nfixtures\/samples\/receipt\.png page 1\/1 \d+x\d+ mean \d+\n\n==> fixtures\/samples\/letter\.pdf <==\n/);
  });

  it("-o DIR/ writes one file per input", async () => {
    const out = path.join(dir, "out-dir/");
    const { code } = await runCli(["scan", ...inputs, "-e", "echo", "-f", "markdown", "-o", out]);
    expect(code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["letter.md", "receipt.md"]);
    expect(readFileSync(path.join(out, "letter.md"), "utf8")).toMatch(/^# fixtures\/samples\/letter\.pdf\n\n## Page 1 of 2\n/);
  });
});

describe("bad inputs", () => {
  const bad: Array<[string, RegExp, string]> = [
    ["missing.png", /missing\.png: no such file/, "not_found"],
    ["empty.png", /empty\.png: .*empty/, "empty"],
    ["text.png", /text\.png: not an image or PDF/, "unsupported"],
    ["truncated.png", /truncated\.png: .+/, "corrupt"],
    ["truncated.pdf", /truncated\.pdf: .+/, "corrupt"],
    ["encrypted.pdf", /encrypted\.pdf: .*password/, "encrypted"],
  ];

  it.each(bad)("%s: one clear stderr line, an error record, exit 1, the good inputs still written", async (name, line, code) => {
    const result = await runCli(["scan", "scans/b-receipt.png", name, "scans/c-letter.pdf", "-e", "echo", "-f", "jsonl"], { cwd: dir });
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^qwen-ocr: ${line.source}`));
    const records = jsonl(result.stdout);
    records.forEach(assertPageRecord);
    expect(records.map((r) => `${r.source}#${r.page}`)).toEqual(["scans/b-receipt.png#1", `${name}#0`, "scans/c-letter.pdf#1", "scans/c-letter.pdf#2"]);
    expect(records[1].error.code).toBe(code);
  });

  it("a bad input among several still writes the others to -o DIR/", async () => {
    const out = path.join(dir, "out-bad/");
    const result = await runCli(["scan", "truncated.png", "scans/b-receipt.png", "-e", "echo", "-o", out], { cwd: dir });
    expect(result.code).toBe(1);
    expect(readdirSync(out)).toEqual(["b-receipt.txt"]);
  });
});

describe("engine failures (fake engines)", () => {
  it("an engine that crashes fails each page with a clear line, and every input still gets a record", async () => {
    const { code, stdout, stderr } = await runCli(["scan", "fixtures/samples/receipt.png", "fixtures/samples/letter.pdf", "-e", "crash", "-f", "jsonl", "--pdf-text", "ocr"]);
    expect(code).toBe(1);
    expect(stderr.trimEnd().split("\n")).toEqual([
      "qwen-ocr: fixtures/samples/receipt.png: fake engine crashed",
      "qwen-ocr: fixtures/samples/letter.pdf: page 1: fake engine crashed",
      "qwen-ocr: fixtures/samples/letter.pdf: page 2: fake engine crashed",
    ]);
    expect(jsonl(stdout).map((r) => r.error.code)).toEqual(["engine_failed", "engine_failed", "engine_failed"]);
  });

  it("a page that fails leaves the other pages of the same input intact", async () => {
    const { code, stdout } = await runCli(["scan", "fixtures/samples/letter.pdf", "-e", "flaky", "-f", "json", "--pdf-text", "ocr"]);
    expect(code).toBe(1);
    const [doc] = JSON.parse(stdout);
    assertDocumentRecord(doc);
    expect(doc.text).toBe("page 1");
    expect(doc.error.message).toBe("page 2: fake engine failed on page 2");
  });

  it("a hanging engine is stopped by --page-timeout and the run goes on", async () => {
    const started = Date.now();
    const { code, stdout, stderr } = await runCli(["scan", "fixtures/samples/receipt.png", "fixtures/samples/receipt.png", "fixtures/samples/letter.pdf", "--pages", "1", "-e", "hang", "--page-timeout", "0.3", "-f", "jsonl", "--pdf-text", "ocr"]);
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(stderr).toContain("qwen-ocr: fixtures/samples/receipt.png: page took longer than 0.3 s");
    expect(jsonl(stdout).map((r) => `${path.basename(r.source)}:${r.error.code}`)).toEqual(["receipt.png:timeout", "letter.pdf:timeout"]);
  });

  it("an engine that finds no text gives empty pages, not errors", async () => {
    const { code, stdout } = await runCli(["scan", "fixtures/samples/receipt.png", "-e", "empty", "-f", "jsonl"]);
    expect(code).toBe(0);
    expect(jsonl(stdout)[0]).toMatchObject({ text: "", lines: [], finish: "stop" });
  });
});

describe("usage", () => {
  it.each([
    [["scan", "x.png", "-e", "nope"], /unknown engine 'nope'/],
    [["scan", "x.png", "--pages", "3-1"], /invalid page selection "3-1"/],
    [["scan", "x.png", "-f", "yaml"], /format/],
    [["scan"], /missing required argument/],
    [["frobnicate"], /unknown command/],
  ])("%j exits 2 with a message", async (args, message) => {
    const { code, stderr, stdout } = await runCli(args as string[]);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stdout).toBe("");
  });
});

describe("the installed command", () => {
  it("--help loads none of the heavy modules", async () => {
    const script = `
      const { main } = await import(${JSON.stringify(path.join(ROOT, "dist/cli/program.js"))});
      const { PassThrough, Readable } = await import("node:stream");
      await main(["scan", "--help"], { stdout: new PassThrough(), stderr: new PassThrough(), stdin: Readable.from([]), cwd: process.cwd(), env: {} });
      const { createRequire } = await import("node:module");
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => /sharp|onnxruntime|pdfjs|transformers|canvas/.test(k));
      console.log(JSON.stringify(loaded));`;
    const { execFileSync } = await import("node:child_process");
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(JSON.parse(out)).toEqual([]);
  });

  it("plugins load fake engines into the real binary; stdout is results only", async () => {
    const { code, stdout, stderr } = await spawnCli(["scan", "fixtures/samples/receipt.png", "nope.png", "--plugin", "./test/fakes/engines.mjs", "-e", "echo", "-f", "jsonl"]);
    expect(code).toBe(1);
    expect(stderr).toBe("qwen-ocr: nope.png: no such file\n");
    const records = jsonl(stdout);
    expect(records.map((r) => r.engine)).toEqual(["echo", "echo"]);
  });
});
