// The web page in headless Chromium (Debian's /usr/bin/chromium driven by playwright-core):
// upload the menu with the real ppocr engine, see its text grouped by language, download the JSON.
// A screenshot is kept in test/artifacts/ (gitignored).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { registerEngine } from "../src/engines/registry.js";
import type { EngineFactory } from "../src/types.js";
import { ROOT } from "./helpers/cli.js";
import { assertDocumentRecord } from "./helpers/schema.js";
import { sample, startTestServer, textResult, type TestServer } from "./helpers/serve.js";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
const ARTIFACTS = path.join(ROOT, "test/artifacts");
/**
 * What the functions run in the page use of it: this project's TypeScript has no DOM library, and
 * the page's content security policy forbids evaluating strings.
 */
interface PageScope {
  document: {
    getElementById(id: string): { options: { length: number }; dispatchEvent(event: unknown): boolean } | null;
    querySelectorAll(selector: string): Iterable<{ id: string; labels?: { length: number } | null }>;
    activeElement: { id: string } | null;
  };
  sessionStorage: { getItem(key: string): string | null };
  DataTransfer: new () => { items: { add(file: unknown): void } };
  File: new (parts: unknown[], name: string, options: { type: string }) => unknown;
  DragEvent: new (type: string, init: { dataTransfer: unknown; bubbles: boolean; cancelable: boolean }) => unknown;
  atob(data: string): string;
}
const ENGINES_LISTED = () => ((globalThis as unknown as PageScope).document.getElementById("engine")?.options.length ?? 0) > 0;
if (!hasChromium) console.warn(`serve-web: SKIPPED, ${CHROMIUM} is not installed (apt-get install chromium)`);

/** Reads an Arabic and English sign: right-to-left rendering. */
const sign: EngineFactory = {
  name: "web-sign",
  description: "test engine: a bilingual sign",
  available: async () => ({ ok: true }),
  load: async () => ({
    info: { engine: "web-sign", model: "fake-sign" },
    loadMs: 0,
    close: async () => {},
    recognize: async () => textResult("مرحبا بكم في المطعم\nWelcome to the restaurant\nالقائمة اليومية"),
  }),
};

describe.skipIf(!hasChromium)(`the web page in Chromium${hasChromium ? "" : ` (skipped: ${CHROMIUM} is not installed)`}`, () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    registerEngine(sign);
    mkdirSync(ARTIFACTS, { recursive: true });
    t = await startTestServer({ engine: "ppocr" });
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 }, acceptDownloads: true, reducedMotion: "reduce" });
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") errors.push(msg.text());
    });
    await page.goto(`${t.url}/`);
    await page.waitForFunction(ENGINES_LISTED);
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await t?.server.close();
  });

  it("every control has a label, results are announced, and the engine and templates come from the server", async () => {
    const unlabeled = await page.evaluate(() =>
      [...(globalThis as unknown as PageScope).document.querySelectorAll("input, select, textarea")].filter((el) => !el.labels?.length).map((el) => el.id),
    );
    expect(unlabeled).toEqual([]);
    expect(await page.getAttribute("#announce", "aria-live")).toBe("polite");
    expect(await page.inputValue("#engine")).toBe("ppocr");
    // ppocr reads text only: templates that extract fields are offered but disabled.
    expect(await page.locator('#prompt option[value="invoice"]').isDisabled()).toBe(true);
    expect(await page.locator("#run").isDisabled()).toBe(true);
  });

  it("reads the menu with ppocr: pages appear with the text grouped by language; the JSON download is the API's document", async () => {
    await page.setInputFiles("#files", path.join(ROOT, "fixtures/samples/menu-zh-en-ja.png"));
    await page.keyboard.press("Tab");
    await page.click("#run");
    expect(await page.locator("#stop").isVisible()).toBe(true);
    const doc = page.locator("article.doc").first();
    await doc.locator(".doc-status.ok").waitFor({ timeout: 60_000 });
    expect(await doc.locator(".doc-status").textContent()).toMatch(/^1 page read in [\d.]+ s · ppocr$/);
    expect(await doc.locator(".badge").first().textContent()).toBe("ok");

    const chinese = doc.locator('section.lang[lang="zh-Hans"]');
    const english = doc.locator('section.lang[lang="en"]');
    expect(await chinese.locator("h4").textContent()).toBe("简体中文 (Simplified Chinese)");
    expect(await chinese.textContent()).toContain("宫保鸡丁");
    expect(await english.locator("h4").textContent()).toBe("English");
    const englishLines = await english.locator(".text p").allTextContents();
    expect(englishLines).toContain("Kung Pao Chicken $5.2");
    expect(englishLines.join("\n")).not.toMatch(/\p{Script=Han}/u);

    const [download] = await Promise.all([page.waitForEvent("download"), doc.locator('button[data-action="json"]').click()]);
    expect(download.suggestedFilename()).toBe("menu-zh-en-ja.json");
    const json = JSON.parse(readFileSync((await download.path())!, "utf8"));
    assertDocumentRecord(json);
    expect(json).toMatchObject({ source: "menu-zh-en-ja.png", pages: 1, engine: "ppocr" });
    expect(json.records[0].languages.map((g: { lang: string }) => g.lang).slice(0, 2)).toEqual(["zh-Hans", "en"]);

    const [md] = await Promise.all([page.waitForEvent("download"), doc.locator('button[data-action="md"]').click()]);
    const markdown = readFileSync((await md.path())!, "utf8");
    expect(markdown).toMatch(/^# menu-zh-en-ja\.png\n\n## Page 1 of 1\n\n### 简体中文 \(Simplified Chinese\)\n/);
    expect(markdown).toMatch(/\n### English\n\n[^#]*Kung Pao Chicken \$5\.2/);

    expect(await page.locator("#stop").isVisible()).toBe(false);
    await page.screenshot({ path: path.join(ARTIFACTS, "serve-web.png"), fullPage: true });
  });

  it("a dropped file is read too; right-to-left groups and lines are marked dir=rtl", async () => {
    await page.selectOption("#engine", "web-sign");
    const png = sample("receipt.png").toString("base64");
    await page.evaluate((b64) => {
      const scope = globalThis as unknown as PageScope;
      const bytes = Uint8Array.from(scope.atob(b64), (c) => c.charCodeAt(0));
      const data = new scope.DataTransfer();
      data.items.add(new scope.File([bytes], "sign.png", { type: "image/png" }));
      scope.document.getElementById("drop")?.dispatchEvent(new scope.DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
    }, png);
    await page.click("#run");
    const doc = page.locator("article.doc", { hasText: "sign.png" });
    await doc.locator(".doc-status.ok").waitFor({ timeout: 30_000 });
    const arabic = doc.locator('section.lang[lang="ar"]');
    expect(await arabic.getAttribute("dir")).toBe("rtl");
    expect(await arabic.locator(".text p").first().getAttribute("dir")).toBe("rtl");
    expect(await arabic.textContent()).toContain("مرحبا بكم في المطعم");
    expect(await doc.locator('section.lang[lang="en"]').getAttribute("dir")).toBe("ltr");
    await page.screenshot({ path: path.join(ARTIFACTS, "serve-web-rtl.png"), fullPage: true });
  });

  it("with a token, the page asks for it and keeps it for the tab", async () => {
    const guarded = await startTestServer({ engine: "web-sign", token: "page-token-0123456789" });
    try {
      const tab = await browser.newPage();
      await tab.goto(`${guarded.url}/`);
      await tab.locator("#message").waitFor();
      expect(await tab.locator("#message").textContent()).toMatch(/needs a token.*Access token/);
      expect(await tab.evaluate(() => (globalThis as unknown as PageScope).document.activeElement?.id)).toBe("token");
      await tab.fill("#token", "page-token-0123456789");
      await tab.press("#token", "Enter");
      await tab.waitForFunction(ENGINES_LISTED);
      expect(await tab.evaluate(() => (globalThis as unknown as PageScope).sessionStorage.getItem("qwen-ocr-token"))).toBe("page-token-0123456789");
      await tab.close();
    } finally {
      await guarded.server.close();
    }
  });
});
