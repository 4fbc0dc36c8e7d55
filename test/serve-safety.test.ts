// `qwen-ocr serve`: tokens, limits, the queue, disconnects, temporary files and shutdown.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { readdirSync, statSync } from "node:fs";
import { request as httpRequest } from "node:http";
import path from "node:path";
import { registerEngine } from "../src/engines/registry.js";
import { echo } from "./fakes/engines.mjs";
import { controlledEngine, http, makePdf, postFile, readNdjson, sample, startTestServer, until, type TestServer } from "./helpers/serve.js";

const servers: TestServer[] = [];
async function serve(...args: Parameters<typeof startTestServer>): Promise<TestServer> {
  const t = await startTestServer(...args);
  servers.push(t);
  return t;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((t) => t.server.close()));
});
beforeAll(() => registerEngine(echo));

const health = async (url: string) => (await http(`${url}/v1/health`)).json();

describe("token", () => {
  it("with a token every API request needs 'Authorization: Bearer <token>'; the page's own files do not", async () => {
    const token = "s3cret-token-0123456789";
    const t = await serve({ engine: "echo", token });
    const none = await postFile(t.url, "receipt.png");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect((await none.json()).error).toEqual({ code: "unauthorized", message: "this server needs a token: send 'Authorization: Bearer <token>'" });
    const wrong = await postFile(t.url, "receipt.png", { headers: { Authorization: "Bearer s3cret-token-0123456788" } });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).error.message).toBe("the token is wrong");
    expect((await postFile(t.url, "receipt.png", { headers: { Authorization: `Basic ${token}` } })).status).toBe(401);
    const right = await postFile(t.url, "receipt.png", { headers: { Authorization: `Bearer ${token}` } });
    expect(right.status).toBe(200);
    for (const p of ["/v1/health", "/v1/templates", "/v1/openapi.json", "/nope"]) expect((await http(`${t.url}${p}`)).status, p).toBe(401);
    expect((await http(`${t.url}/v1/health`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    for (const p of ["/", "/app.js", "/style.css"]) expect((await http(`${t.url}${p}`)).status, p).toBe(200);
  });
});

describe("browsers on other sites", () => {
  it("refuses cross-origin requests and, on loopback, Host names that are not loopback (DNS rebinding)", async () => {
    const t = await serve({ engine: "echo" });
    const cross = await postFile(t.url, "receipt.png", { headers: { Origin: "http://evil.example" } });
    expect(cross.status).toBe(403);
    expect((await cross.json()).error.message).toMatch(/cross-origin requests are not allowed/);
    const same = await postFile(t.url, "receipt.png", { headers: { Origin: t.url } });
    expect(same.status).toBe(200);
    // fetch will not forge a Host header: use node:http.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${t.url}/v1/health`, { headers: { Host: "evil.example" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(403);
  });
});

describe("limits", () => {
  it("an upload over --max-upload-mb is a 413, as multipart, as a raw body with a length, and as a chunked raw body", async () => {
    const t = await serve({ engine: "echo", maxUploadBytes: 100_000 });
    const big = Buffer.alloc(300_000, 7);
    const expected = { error: { code: "too_large", message: "the upload is larger than this server's limit of 98 KB (--max-upload-mb)" } };

    const multipart = await postFile(t.url, big, { filename: "big.png" });
    expect(multipart.status).toBe(413);
    expect(await multipart.json()).toEqual(expected);

    const raw = await http(`${t.url}/v1/ocr`, { method: "POST", body: new Uint8Array(big), headers: { "Content-Type": "image/png" } });
    expect(raw.status).toBe(413);
    expect(await raw.json()).toEqual(expected);

    const chunks = [big.subarray(0, 60_000), big.subarray(60_000, 120_000), big.subarray(120_000)];
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(new Uint8Array(next));
        else controller.close();
      },
    });
    const chunked = await http(`${t.url}/v1/ocr`, { method: "POST", body: stream, headers: { "Content-Type": "image/png" }, duplex: "half" } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(await chunked.json()).toEqual(expected);

    // An upload just under the limit goes through.
    expect((await postFile(t.url, "receipt.png")).status).toBe(sample("receipt.png").length <= 100_000 ? 200 : 413);
    expect(t.logs.filter((l) => / POST \/v1\/ocr 413 /.test(l))).toHaveLength(3);
  });

  it("a malformed multipart body is a 400 that says what is wrong", async () => {
    const t = await serve({ engine: "echo" });
    const post = (body: string, contentType: string) => http(`${t.url}/v1/ocr`, { method: "POST", body, headers: { "Content-Type": contentType } });
    const cut = await post('--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nabc', "multipart/form-data; boundary=xyz");
    expect(cut.status).toBe(400);
    expect(await cut.json()).toEqual({ error: { code: "bad_request", message: "malformed multipart body: Unexpected end of multipart data" } });
    const noBoundary = await post("whatever", "multipart/form-data");
    expect(noBoundary.status).toBe(400);
    expect((await noBoundary.json()).error.message).toBe("malformed multipart body: Multipart: Boundary not found");
    const noFile = await post('--xyz\r\nContent-Disposition: form-data; name="pages"\r\n\r\n1\r\n--xyz--\r\n', "multipart/form-data; boundary=xyz");
    expect(noFile.status).toBe(400);
    expect((await noFile.json()).error.message).toMatch(/^no file: send the document in the multipart field 'file'/);
    const twoFiles = new FormData();
    twoFiles.append("file", new Blob([new Uint8Array(sample("receipt.png"))]), "a.png");
    twoFiles.append("file", new Blob([new Uint8Array(sample("receipt.png"))]), "b.png");
    const two = await http(`${t.url}/v1/ocr`, { method: "POST", body: twoFiles });
    expect(two.status).toBe(400);
    expect((await two.json()).error.message).toBe("send one file per request (the multipart field 'file')");
  });
});

describe("the queue", () => {
  it("runs --concurrency requests, holds --queue more, and answers 503 with Retry-After beyond", async () => {
    const held = controlledEngine("queue-held", { open: false });
    registerEngine(held);
    const t = await serve({ engine: "queue-held", concurrency: 1, queue: 1 });
    const first = postFile(t.url, "receipt.png");
    await held.waitForCalls(1);
    const second = postFile(t.url, "receipt.png");
    await until(async () => (await health(t.url)).queue.waiting === 1);
    expect((await health(t.url)).queue).toEqual({ running: 1, waiting: 1, concurrency: 1, queue: 1 });

    const third = await postFile(t.url, "receipt.png");
    expect(third.status).toBe(503);
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await third.json()).error).toMatchObject({ code: "busy", message: expect.stringMatching(/^the server is busy \(1 running, 1 waiting\): try again in \d+ s$/) });

    held.release();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(held.calls).toBe(2);
    await until(async () => (await health(t.url)).queue.running === 0);
  });

  it("--concurrency N runs N requests at once, each on its own engine instance", async () => {
    const held = controlledEngine("queue-pair", { open: false });
    registerEngine(held);
    const t = await serve({ engine: "queue-pair", concurrency: 2, queue: 0 });
    const a = postFile(t.url, "receipt.png");
    const b = postFile(t.url, "receipt.png");
    await held.waitForCalls(2);
    expect((await health(t.url)).engines.find((e: { name: string }) => e.name === "queue-pair").loaded).toBe(2);
    expect((await postFile(t.url, "receipt.png")).status).toBe(503);
    held.release();
    expect([(await a).status, (await b).status]).toEqual([200, 200]);
  });
});

describe("a client that goes away", () => {
  it("cancels its remaining pages: the engine is not called for them, and the slot and temporary files are freed", async () => {
    const slow = controlledEngine("gone-slow", { delayMs: 150 });
    registerEngine(slow);
    const t = await serve({ engine: "gone-slow" });
    const pdf = await makePdf(12);
    const controller = new AbortController();
    const res = await postFile(t.url, pdf, { filename: "long.pdf", headers: { Accept: "application/x-ndjson" }, signal: controller.signal });
    expect(res.status).toBe(200);
    let got = 0;
    await readNdjson(res, () => {
      if (++got === 2) controller.abort();
    }).catch((err: unknown) => {
      if ((err as Error).name !== "AbortError") throw err;
    });
    expect(got).toBe(2);
    await until(async () => (await health(t.url)).queue.running === 0);
    const calls = slow.calls;
    await new Promise((r) => setTimeout(r, 600));
    expect(slow.calls).toBe(calls);
    expect(calls).toBeLessThanOrEqual(4);
    await until(() => readdirSync(t.tmp).length === 0);
    await until(() => t.logs.some((l) => / POST \/v1\/ocr 200 \(client gone\) \d pages \d+ ms$/.test(l)));
  });

  it("one that leaves while waiting in the queue never reaches the engine", async () => {
    const held = controlledEngine("gone-queued", { open: false });
    registerEngine(held);
    const t = await serve({ engine: "gone-queued" });
    const first = postFile(t.url, "receipt.png");
    await held.waitForCalls(1);
    const controller = new AbortController();
    const second = postFile(t.url, "letter.pdf", { signal: controller.signal }).catch((err: Error) => err);
    await until(async () => (await health(t.url)).queue.waiting === 1);
    controller.abort();
    expect(await second).toBeInstanceOf(Error);
    await until(async () => (await health(t.url)).queue.waiting === 0);
    held.release();
    expect((await first).status).toBe(200);
    expect(held.calls).toBe(1);
  });
});

describe("temporary files", () => {
  it("an upload goes to a private directory (0700) under a generated name, removed after the request", async () => {
    const held = controlledEngine("tmp-held", { open: false });
    registerEngine(held);
    const t = await serve({ engine: "tmp-held" });
    const pending = postFile(t.url, "receipt.png", { filename: "../../../etc/cron.d/x.png" });
    await held.waitForCalls(1);
    const dirs = readdirSync(t.tmp);
    expect(dirs).toHaveLength(1);
    expect(dirs[0]).toMatch(/^qwen-ocr-serve-/);
    const dir = path.join(t.tmp, dirs[0]);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir);
    expect(files).toEqual([expect.stringMatching(/^upload-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)]);
    expect(statSync(path.join(dir, files[0])).mode & 0o777).toBe(0o600);
    held.release();
    const doc = await (await pending).json();
    expect(doc.source).toBe("x.png");
    await until(() => readdirSync(t.tmp).length === 0);
  });

  it("are removed after failed requests too", async () => {
    const t = await serve({ engine: "echo", maxPages: 1 });
    expect((await postFile(t.url, "letter.pdf")).status).toBe(422);
    expect((await postFile(t.url, Buffer.from("text"), { filename: "a.txt" })).status).toBe(422);
    expect((await postFile(t.url, "receipt.png", { fields: { bogus: "1" } })).status).toBe(400);
    await until(() => readdirSync(t.tmp).length === 0);
  });
});

describe("shutdown", () => {
  it("graceful: running requests finish, waiting and new ones get 503, then the server closes", async () => {
    const held = controlledEngine("stop-held", { open: false });
    registerEngine(held);
    const t = await serve({ engine: "stop-held" });
    const running = postFile(t.url, await makePdf(2));
    await held.waitForCalls(1);
    const waiting = postFile(t.url, "receipt.png");
    await until(async () => (await health(t.url)).queue.waiting === 1);

    const closed = t.server.shutdown();
    const refused = await waiting;
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("10");
    expect((await refused.json()).error.code).toBe("shutting_down");
    expect(t.server.health().status).toBe("draining");

    held.release();
    const done = await running;
    expect(done.status).toBe(200);
    expect((await done.json()).records).toHaveLength(2);
    await closed;
    await expect(http(`${t.url}/v1/health`)).rejects.toThrow();
  });

  it("close(): running requests stop after the page in flight", async () => {
    const slow = controlledEngine("stop-slow", { delayMs: 100 });
    registerEngine(slow);
    const t = await serve({ engine: "stop-slow" });
    const res = await postFile(t.url, await makePdf(10), { headers: { Accept: "application/x-ndjson" } });
    const records: unknown[] = [];
    const reading = readNdjson(res, (r) => records.push(r)).catch(() => undefined);
    await until(() => records.length >= 1);
    await t.server.close();
    await reading;
    expect(slow.calls).toBeLessThan(10);
  });
});
