/**
 * `models pull` against a local hub: a 127.0.0.1 server on an ephemeral port that serves the
 * fixture model in the Hugging Face URL layout (model info, tree API, resolve with Range), and can
 * drop connections or corrupt files on demand.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import { buildQwenFixture, FIXTURE_TEXTS, makeFixtureImages } from "../scripts/make-fixture-model.js";
import { runPull } from "../src/cli/models.js";
import { uniform } from "../src/models/dtypes.js";
import { hubFromEnv } from "../src/models/hub.js";
import { DEFAULT_MODEL, stagingDir } from "../src/models/paths.js";
import { pullModel, type PullEvent } from "../src/models/pull.js";
import { ROOT, runCli } from "./helpers/cli.js";

const REPO = DEFAULT_MODEL;
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const BIG = "onnx/decoder_model_merged_q4.onnx_data";

interface Behaviour {
  dropOnce: Set<string>;
  dropAlways: Set<string>;
  corrupt: Set<string>;
}

let dir: string;
let files: Map<string, Buffer>;
let server: http.Server;
let endpoint: string;
let requests: Array<{ path: string; range?: string }>;
let behaviour: Behaviour;
let images: Awaited<ReturnType<typeof makeFixtureImages>>;

function sha(algorithm: "sha1" | "sha256", data: Buffer | string): string {
  return createHash(algorithm).update(data).digest("hex");
}

function walk(root: string, prefix = ""): Array<[string, Buffer]> {
  return readdirSync(path.join(root, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? walk(root, rel) : [[rel, readFileSync(path.join(root, rel))] as [string, Buffer]];
  });
}

function treeEntry(file: string, data: Buffer) {
  const lfs = /\.onnx(_data.*)?$/.test(file);
  return {
    type: "file",
    path: file,
    size: data.length,
    oid: lfs ? sha("sha1", `pointer ${file}`) : sha("sha1", Buffer.concat([Buffer.from(`blob ${data.length}\0`), data])),
    ...(lfs ? { lfs: { oid: sha("sha256", data), size: data.length, pointerSize: 134 } } : {}),
  };
}

function json(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function handle(req: http.IncomingMessage, res: http.ServerResponse) {
  const url = new URL(req.url ?? "/", "http://x");
  const p = decodeURIComponent(url.pathname);
  requests.push({ path: p, ...(req.headers.range ? { range: req.headers.range } : {}) });
  let m = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(p);
  if (m) {
    if (m[1] !== REPO || !["main", COMMIT].includes(m[2]!)) return json(res, 404, { error: "Repository not found" });
    return json(res, 200, { _id: "fixture", id: REPO, sha: COMMIT, private: false, lastModified: "2026-01-01T00:00:00.000Z", siblings: [...files.keys()].map((f) => ({ rfilename: f })) });
  }
  m = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(p);
  if (m) {
    if (m[1] !== REPO || m[2] !== COMMIT) return json(res, 404, { error: "Revision not found" });
    return json(res, 200, [{ type: "directory", path: "onnx", oid: "d", size: 0 }, ...[...files].map(([f, d]) => treeEntry(f, d))]);
  }
  m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(p);
  if (m && m[1] === REPO && m[2] === COMMIT && files.has(m[3]!)) {
    const file = m[3]!;
    let data = files.get(file)!;
    if (behaviour.corrupt.has(file)) data = Buffer.from(data.map((b) => b ^ 0xff));
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    const start = range ? Number(range[1]) : 0;
    if (start >= data.length && data.length > 0) {
      res.writeHead(416, { "content-range": `bytes */${data.length}` });
      return res.end();
    }
    const body = data.subarray(start);
    res.writeHead(range ? 206 : 200, {
      "content-length": body.length,
      "accept-ranges": "bytes",
      etag: `"${sha("sha256", files.get(file)!)}"`,
      ...(range ? { "content-range": `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
    });
    const drop = behaviour.dropAlways.has(file) || behaviour.dropOnce.delete(file);
    if (drop) {
      // Half the rest, then the connection goes away.
      res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    return res.end(body);
  }
  json(res, 404, { error: "Entry not found" });
}

beforeAll(async () => {
  mkdirSync(path.join(ROOT, "test/.tmp"), { recursive: true });
  dir = mkdtempSync(path.join(ROOT, "test/.tmp/models-pull-"));
  const model = await buildQwenFixture(path.join(dir, "repo"));
  images = await makeFixtureImages(path.join(dir, "pages"));
  files = new Map(walk(model));
  // Files a q4 pull must (BIG, the jinja) and must not (README, other dtypes' data) fetch.
  let seed = 1;
  files.set(BIG, Buffer.from(Array.from({ length: 3 << 20 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff)));
  files.set("onnx/decoder_model_merged_fp16.onnx_data", Buffer.alloc(1000, 7));
  files.set("chat_template.jinja", Buffer.from("{{ messages }}"));
  files.set("README.md", Buffer.from("# fixture\n"));
  server = http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

let home: string;
beforeEach(() => {
  requests = [];
  behaviour = { dropOnce: new Set(), dropAlways: new Set(), corrupt: new Set() };
  home = mkdtempSync(path.join(dir, "home-"));
});

const env = () => ({ QWEN_OCR_HOME: home, HF_ENDPOINT: endpoint });
const modelDir = (dtype = "q4") => path.join(home, "models", "onnx-community--Qwen3-VL-2B-Instruct-ONNX", dtype);
const fetched = () => requests.filter((r) => r.path.includes("/resolve/")).map((r) => r.path.replace(/^.*\/resolve\/[^/]+\//, ""));

function listFilesIn(root: string, prefix = ""): string[] {
  return readdirSync(path.join(root, prefix), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFilesIn(root, `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

describe("models pull", () => {
  it("fetches only what the dtype needs, verified, into a complete model that scan then uses", async () => {
    const { code, stdout, stderr } = await runCli(["models", "pull", "--dtype", "q4"], { env: env() });
    expect(code).toBe(0);
    expect(stdout).toBe(`${modelDir()}\n`);
    expect(stderr).toContain("qwen-ocr: pulling 10 files (3.0 MB) at 0123456789ab");
    expect(stderr).toContain(`qwen-ocr: fetched ${BIG} (3.0 MB)`);
    expect(stderr).toContain("is ready (3.0 MB downloaded)");
    expect(listFilesIn(modelDir())).toEqual([
      "chat_template.jinja",
      "config.json",
      "generation_config.json",
      "onnx/decoder_model_merged_q4.onnx",
      "onnx/decoder_model_merged_q4.onnx_data",
      "onnx/embed_tokens_q4.onnx",
      "onnx/vision_encoder_q4.onnx",
      "preprocessor_config.json",
      "qwen-ocr-model.json",
      "tokenizer.json",
      "tokenizer_config.json",
    ]);
    expect(fetched()).not.toContain("README.md");
    const manifest = JSON.parse(readFileSync(path.join(modelDir(), "qwen-ocr-model.json"), "utf8"));
    expect(manifest).toMatchObject({ repo: REPO, revision: "main", commit: COMMIT, dtype: "q4", hub: endpoint });

    const scan = await runCli(["scan", images.dark, "-e", "qwen", "-f", "jsonl"], { env: env() });
    expect(scan.code).toBe(0);
    expect(JSON.parse(scan.stdout)).toMatchObject({ text: FIXTURE_TEXTS.dark, model: REPO, revision: COMMIT, dtype: "q4" });

    // A second pull asks the hub which commit main is, and downloads nothing.
    requests = [];
    const again = await runCli(["models", "pull", "--dtype", "q4"], { env: env() });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("is up to date at 0123456789ab");
    expect(fetched()).toEqual([]);
  });

  it("resumes a file whose connection dropped, with an HTTP Range request", async () => {
    behaviour.dropOnce.add(BIG);
    const events: PullEvent[] = [];
    const result = await pullModel({
      repo: REPO,
      revision: "main",
      spec: uniform("q4"),
      root: path.join(home, "models"),
      hub: hubFromEnv(env()),
      retryDelayMs: () => 10,
      onEvent: (e) => events.push(e),
    });
    expect(result).toMatchObject({ commit: COMMIT, upToDate: false });
    const big = requests.filter((r) => r.path.endsWith(BIG));
    expect(big).toHaveLength(2);
    expect(big[0]!.range).toBeUndefined();
    expect(big[1]!.range).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(big[1]!.range!)![0])).toBeGreaterThan(1 << 20);
    expect(readFileSync(path.join(result.dir, BIG)).equals(files.get(BIG)!)).toBe(true);
    // Progress: bytes only grow, and end at the total.
    const progress = events.filter((e): e is Extract<PullEvent, { type: "progress" }> => e.type === "progress");
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.every((e, i) => i === 0 || e.bytes >= progress[i - 1]!.bytes)).toBe(true);
    expect(progress.at(-1)!.bytes).toBe(progress.at(-1)!.total);
    expect(events.some((e) => e.type === "retry")).toBe(true);
  });

  it("a failed pull leaves no model that counts as present; the next pull resumes where it stopped", async () => {
    behaviour.dropAlways.add(BIG);
    const options = { repo: REPO, revision: "main", spec: uniform("q4"), root: path.join(home, "models"), hub: hubFromEnv(env()), retryDelayMs: () => 5 };
    await expect(pullModel(options)).rejects.toThrow(/downloading onnx\/decoder_model_merged_q4\.onnx_data failed after 4 attempts: .*connection dropped.*run the same command again to resume/);
    expect(existsSync(modelDir())).toBe(false);
    const staging = stagingDir(path.join(home, "models"), REPO, "q4");
    const partSize = statSync(path.join(staging, `${BIG}.part`)).size;
    expect(partSize).toBeGreaterThan(2 << 20);

    const list = await runCli(["models", "list"], { env: env() });
    expect(list.stdout).toBe("");
    expect(list.stderr).toContain("no models in");
    expect(list.stderr).toContain("unfinished download in");
    const scan = await runCli(["scan", images.dark, "-e", "qwen"], { env: env() });
    expect(scan.code).toBe(3);

    behaviour.dropAlways.clear();
    requests = [];
    const { code, stderr } = await runCli(["models", "pull", "--dtype", "q4"], { env: env() });
    expect(code).toBe(0);
    expect(stderr).toMatch(/resuming after \d\.\d MB/);
    const big = requests.filter((r) => r.path.endsWith(BIG));
    expect(big).toEqual([{ path: expect.stringContaining(BIG), range: `bytes=${partSize}-` }]);
    // Files finished before the failure are not fetched again; the one listed after it is.
    expect(fetched()).toEqual([BIG, "chat_template.jinja"]);
    expect(readFileSync(path.join(modelDir(), BIG)).equals(files.get(BIG)!)).toBe(true);
    expect(existsSync(staging)).toBe(false);
  });

  it("a file that does not match the hub's hash fails the pull (exit 1) and leaves no model", async () => {
    behaviour.corrupt.add("onnx/vision_encoder_q4.onnx");
    const options = { repo: REPO, revision: "main", spec: uniform("q4"), root: path.join(home, "models"), hub: hubFromEnv(env()), retryDelayMs: () => 5 };
    await expect(pullModel(options)).rejects.toThrow(/vision_encoder_q4\.onnx: sha256 [0-9a-f]{64} does not match the hub's/);
    expect(existsSync(modelDir())).toBe(false);
    const path_ = await runCli(["models", "path", "--dtype", "q4"], { env: env() });
    expect(path_.code).toBe(3);
    expect(path_.stdout).toBe(`${modelDir()}\n`);
  });

  it("one pull per model directory at a time; a stale lock is taken over", async () => {
    const root = path.join(home, "models");
    const lockFile = `${stagingDir(root, REPO, "q4")}.lock`;
    mkdirSync(path.dirname(lockFile), { recursive: true });
    writeFileSync(lockFile, String(process.ppid)); // a live process
    const busy = await runCli(["models", "pull", "--dtype", "q4"], { env: env() });
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`another qwen-ocr (pid ${process.ppid}) is pulling ${REPO} (q4)`);
    writeFileSync(lockFile, "999999999"); // gone
    expect((await runCli(["models", "pull", "--dtype", "q4", "-q"], { env: env() })).code).toBe(0);
    expect(existsSync(lockFile)).toBe(false);
  });

  it("on a TTY, shows a byte progress bar", async () => {
    const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stderr.on("data", (c: Buffer) => chunks.push(c));
    const code = await runPull({ dtype: "fp32" }, { stdout, stderr, stdin: Readable.from([]), cwd: ROOT, env: env() });
    expect(code).toBe(0);
    const out = Buffer.concat(chunks).toString();
    expect(out).toContain("100% | ");
    expect(out).toMatch(/█/);
  });

  it("--offline and HF_HUB_OFFLINE=1 never touch the network", async () => {
    const a = await runCli(["models", "pull", "--offline"], { env: env() });
    const b = await runCli(["models", "pull"], { env: { ...env(), HF_HUB_OFFLINE: "1" } });
    for (const r of [a, b]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/cannot download onnx-community\/Qwen3-VL-2B-Instruct-ONNX offline/);
    }
    expect(requests).toEqual([]);
  });

  it("explains a missing repo, a missing dtype, and an unreachable hub", async () => {
    const missing = await runCli(["models", "pull", "--model", "nobody/Nothing", "--dtype", "q4"], { env: env() });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("nobody/Nothing@main was not found on");
    files.delete("onnx/embed_tokens_fp16.onnx");
    try {
      const noDtype = await runCli(["models", "pull", "--dtype", "fp16"], { env: env() });
      expect(noDtype.code).toBe(1);
      expect(noDtype.stderr).toContain("has no fp16 model: onnx/embed_tokens_fp16.onnx not in the repo");
    } finally {
      files = new Map(walk(path.join(dir, "repo"))).set(BIG, files.get(BIG)!).set("chat_template.jinja", files.get("chat_template.jinja")!);
    }
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = await runCli(["models", "pull", "--dtype", "q4"], { env: { ...env(), HF_ENDPOINT: `http://127.0.0.1:${port}` } });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+ \(.*\); check the network, or set HF_ENDPOINT to a mirror/);
  });
});

describe("models list, path, rm", () => {
  it("list shows pulled models; path prints the directory; rm removes it", async () => {
    expect((await runCli(["models", "pull", "--dtype", "q4", "-q"], { env: env() })).code).toBe(0);
    expect((await runCli(["models", "pull", "--dtype", "fp32", "-q"], { env: env() })).code).toBe(0);

    const list = await runCli(["models", "list"], { env: env() });
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^MODEL\s+DTYPE\s+COMMIT\s+SIZE\s+PATH$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      [REPO, "fp32", "0123456789ab"],
      [REPO, "q4", "0123456789ab"],
    ]);
    const asJson = JSON.parse((await runCli(["models", "list", "--json"], { env: env() })).stdout);
    expect(asJson.models.map((m: { dtype: string }) => m.dtype)).toEqual(["fp32", "q4"]);

    // Without --dtype, the best precision installed for the CPU.
    expect((await runCli(["models", "path"], { env: env() })).stdout).toBe(`${modelDir("q4")}\n`);
    expect((await runCli(["models", "path", "--dtype", "fp32"], { env: env() })).stdout).toBe(`${modelDir("fp32")}\n`);
    const absent = await runCli(["models", "path", "--dtype", "q4f16"], { env: env() });
    expect(absent.code).toBe(3);
    expect(absent.stderr).toContain("fetch it with `qwen-ocr models pull --dtype q4f16`");

    const rm = await runCli(["models", "rm", "--dtype", "q4"], { env: env() });
    expect(rm.code).toBe(0);
    expect(rm.stderr).toBe(`qwen-ocr: removed ${modelDir("q4")}\n`);
    expect(existsSync(modelDir("q4"))).toBe(false);
    const scan = await runCli(["scan", images.light, "-e", "qwen", "-f", "jsonl"], { env: env() });
    expect(JSON.parse(scan.stdout)).toMatchObject({ dtype: "fp32", text: FIXTURE_TEXTS.light });

    await runCli(["models", "rm"], { env: env() });
    expect(existsSync(path.join(home, "models", "onnx-community--Qwen3-VL-2B-Instruct-ONNX"))).toBe(false);
    expect((await runCli(["models", "rm"], { env: env() })).stderr).toContain("is not downloaded; nothing removed");
  });

  it("--model-dir keeps models elsewhere", async () => {
    const elsewhere = path.join(dir, "elsewhere");
    expect((await runCli(["models", "pull", "--dtype", "q4", "--model-dir", elsewhere, "-q"], { env: env() })).code).toBe(0);
    expect(existsSync(path.join(elsewhere, "onnx-community--Qwen3-VL-2B-Instruct-ONNX/q4/qwen-ocr-model.json"))).toBe(true);
    const scan = await runCli(["scan", images.dark, "-e", "qwen", "--model-dir", elsewhere, "-f", "jsonl"], { env: env() });
    expect(JSON.parse(scan.stdout)).toMatchObject({ text: FIXTURE_TEXTS.dark });
  });
});
