import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { UsageError } from "../src/errors.js";
import { BUILT_IN_PROMPTS_DIR, findTemplate, listPrompts, loadPrompt, parseTemplate } from "../src/prompts/index.js";

const REQUIRED = ["plain", "grouped", "markdown", "invoice", "receipt", "id-card", "menu", "table", "contract"];

function tempTemplate(name: string, source: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "qwen-ocr-prompts-"));
  const file = path.join(dir, name);
  writeFileSync(file, source);
  return file;
}

describe("the template library", () => {
  it("ships every required template", async () => {
    const names = (await listPrompts()).map((p) => p.name);
    for (const name of REQUIRED) expect(names).toContain(name);
  });

  it("every template parses, its schema compiles, and its placeholders render with their defaults", async () => {
    const all = await listPrompts();
    expect(all.length).toBeGreaterThanOrEqual(REQUIRED.length);
    for (const summary of all) {
      const template = await findTemplate(summary.name);
      expect(template.description, summary.name).not.toBe("");
      expect(["text", "markdown", "json"]).toContain(template.output);
      expect(template.engines.length, summary.name).toBeGreaterThan(0);
      if (template.output === "json") {
        expect(template.schema, summary.name).toBeDefined();
        const ajv = new Ajv({ strict: true, allowUnionTypes: true });
        expect(() => ajv.compile(template.schema!), summary.name).not.toThrow();
      }
      const prompt = await loadPrompt(summary.name);
      expect(prompt.text, summary.name).not.toMatch(/\{\{\s*[\w-]+\s*\}\}/);
      expect(prompt.text.length).toBeGreaterThan(20);
      expect(prompt.warnings).toEqual([]);
      const hinted = await loadPrompt(summary.name, { langHint: "ja,en" });
      expect(hinted.text, summary.name).toContain("The text in the image is in Japanese and English.");
    }
  });

  it("plain is Qwen's own full-text wording", async () => {
    const plain = await loadPrompt("plain");
    expect(plain).toMatchObject({ name: "plain", output: "text" });
    expect(plain.text).toBe(
      "Read all the text in the image. Output only the text content from the image without any additional descriptions or formatting.",
    );
  });

  it("grouped is the article's prompt, with the heading format, and groups by language", async () => {
    const grouped = await loadPrompt("grouped");
    expect(grouped.groupBy).toBe("language");
    expect(grouped.text.startsWith("请提取图中所有文字内容，并按语言分类整理。")).toBe(true);
    expect(grouped.text).toContain("【中文】");
  });

  it("--var values fill placeholders; unknown ones are reported, not silently dropped", async () => {
    const invoice = await loadPrompt("invoice", { vars: { date_format: "DD/MM/YYYY", colour: "red" } });
    expect(invoice.text).toContain("Write dates as DD/MM/YYYY.");
    expect(invoice.warnings).toEqual([expect.stringContaining('no variable "colour"')]);
    expect((await loadPrompt("invoice")).text).toContain("Write dates as YYYY-MM-DD.");
    expect((await loadPrompt("plain", { langHint: ["zh-Hant"] })).text).toContain("The text in the image is in Traditional Chinese.");
  });

  it("a placeholder with no value and no default is a clear usage error", async () => {
    const file = tempTemplate("letter.md", "---\nname: letter\noutput: text\nengines: [qwen]\n---\nRead the letter addressed to {{recipient}}.\n");
    await expect(loadPrompt(file)).rejects.toThrow(UsageError);
    await expect(loadPrompt(file)).rejects.toThrow("prompt letter needs a value for {{recipient}}: pass --var recipient=VALUE");
    expect((await loadPrompt(file, { vars: { recipient: "Ms Sato" } })).text).toBe("Read the letter addressed to Ms Sato.");
  });

  it("templates load by path; bad files and unknown names are usage errors", async () => {
    const file = path.join(BUILT_IN_PROMPTS_DIR, "receipt.md");
    expect((await loadPrompt(file)).name).toBe("receipt");
    await expect(loadPrompt("no-such-template")).rejects.toThrow(/unknown prompt "no-such-template" \(known: .*invoice/);
    await expect(loadPrompt("./missing.md")).rejects.toThrow(/no such file/);
    expect(() => parseTemplate("Just a body", "x.md")).toThrow(/no YAML front matter/);
    expect(() => parseTemplate("---\noutput: pdf\n---\nbody", "x.md")).toThrow(/"output" must be one of text, markdown, json/);
    expect(() => parseTemplate("---\noutput: json\n---\nbody", "x.md")).toThrow(/needs a "schema"/);
    expect(() => parseTemplate("---\nname: [a\n---\nbody", "x.md")).toThrow(/not valid YAML/);
  });

  it("a user directory's template hides the built-in one of the same name", async () => {
    const file = tempTemplate("plain.md", "---\ndescription: mine\nengines: [qwen]\n---\nMy own wording.\n");
    const dirs = [path.dirname(file)];
    expect((await loadPrompt("plain", { dirs })).text).toBe("My own wording.");
    expect((await listPrompts({ dirs })).find((p) => p.name === "plain")?.description).toBe("mine");
  });
});
