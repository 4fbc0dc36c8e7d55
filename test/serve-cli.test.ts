// `qwen-ocr serve` as a process: its address line, request log, warnings, usage errors, and
// SIGTERM finishing the request in flight. Runs the sources through tsx (no build needed).
import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { ROOT } from "./helpers/cli.js";
import { http, postFile, until } from "./helpers/serve.js";

const ENTRY = `
  const { main } = await import("./src/cli/program.ts");
  const { processIO } = await import("./src/cli/io.ts");
  process.exitCode = await main(JSON.parse(process.env.QOCR_ARGS), processIO());`;

interface Running {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

function start(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", ENTRY], {
    cwd: ROOT,
    env: { ...process.env, ...env, QOCR_ARGS: JSON.stringify(args) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let err = "";
  child.stderr!.on("data", (c: Buffer) => (err += c.toString("utf8")));
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, stderr: () => err, exited };
}

async function address(run: Running): Promise<string> {
  const end = Date.now() + 60_000;
  for (;;) {
    const match = /serving (http:\/\/\S+?)\/? \(/.exec(run.stderr());
    if (match) return match[1];
    if (run.child.exitCode !== null || Date.now() > end) throw new Error(`no address line:\n${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const fakes = ["--plugin", "./test/fakes/engines.mjs"];

describe("qwen-ocr serve", () => {
  it("prints its address, logs one line per request, and on SIGTERM lets the request in flight finish, then exits 0", async () => {
    const run = start(["serve", "--port", "0", "-e", "echo", ...fakes]);
    const url = await address(run);
    expect(run.stderr()).toMatch(/^qwen-ocr: serving http:\/\/127\.0\.0\.1:\d+\/ \(engine echo, fake-echo; 1 at a time, 16 waiting at most\)\n/);
    const doc = await (await postFile(url, "receipt.png")).json();
    expect(doc.source).toBe("receipt.png");
    await until(() => /\n\S+Z POST \/v1\/ocr 200 1 page \d+ ms\n/.test(run.stderr()));

    // A page that takes a while (the hang engine never answers: a page timeout ends it).
    const slow = start(["serve", "--port", "0", "-e", "hang", "--page-timeout", "1.5", ...fakes]);
    const slowUrl = await address(slow);
    const pending = postFile(slowUrl, "receipt.png");
    await new Promise((r) => setTimeout(r, 400));
    slow.child.kill("SIGTERM");
    const res = await pending;
    expect(res.status).toBe(200);
    expect((await res.json()).records[0].error.code).toBe("timeout");
    expect(await slow.exited).toBe(0);
    expect(slow.stderr()).toMatch(/qwen-ocr: SIGTERM: shutting down after the 1 request running/);

    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
  });

  it("-q: no request log; the address line still prints", async () => {
    const run = start(["serve", "--port", "0", "-e", "echo", "-q", ...fakes]);
    const url = await address(run);
    expect((await http(`${url}/v1/health`)).status).toBe(200);
    run.child.kill("SIGTERM");
    await run.exited;
    expect(run.stderr().trim().split("\n")).toHaveLength(1);
  });

  it("warns when it listens beyond loopback without a token; --token-env needs a set variable", async () => {
    const open = start(["serve", "--host", "0.0.0.0", "--port", "0", "-e", "echo", ...fakes]);
    await address(open);
    expect(open.stderr()).toMatch(/^qwen-ocr: warning: serving on 0\.0\.0\.0 without a token: anyone who can reach this machine can use it \(set one with --token-env VAR\)\n/);
    open.child.kill("SIGTERM");
    await open.exited;

    const missing = start(["serve", "--port", "0", "--token-env", "QOCR_NO_SUCH_VAR", "-e", "echo", ...fakes]);
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toBe("qwen-ocr: --token-env QOCR_NO_SUCH_VAR: the variable is not set or empty\n");

    const guarded = start(["serve", "--host", "0.0.0.0", "--port", "0", "--token-env", "QOCR_TOKEN", "-e", "echo", ...fakes], { QOCR_TOKEN: "a-long-enough-token-1234" });
    const url = await address(guarded);
    expect(guarded.stderr()).not.toMatch(/warning/);
    expect(guarded.stderr()).toMatch(/; token required\)/);
    expect((await http(`${url}/v1/health`)).status).toBe(401);
    expect((await http(`${url}/v1/health`, { headers: { Authorization: "Bearer a-long-enough-token-1234" } })).status).toBe(200);
    guarded.child.kill("SIGTERM");
    await guarded.exited;
  });

  it("a port in use is a usage error (exit 2)", async () => {
    const first = start(["serve", "--port", "0", "-e", "echo", ...fakes]);
    const port = new URL(await address(first)).port;
    const second = start(["serve", "--port", port, "-e", "echo", ...fakes]);
    expect(await second.exited).toBe(2);
    expect(second.stderr()).toBe(`qwen-ocr: 127.0.0.1:${port} is already in use (choose another port with --port)\n`);
    first.child.kill("SIGTERM");
    await first.exited;
  });

  it("serve --help loads neither the server nor any engine", () => {
    const script = `
      const { main } = await import("./src/cli/program.ts");
      const { PassThrough, Readable } = await import("node:stream");
      await main(["serve", "--help"], { stdout: new PassThrough(), stderr: new PassThrough(), stdin: Readable.from([]), cwd: process.cwd(), env: {} });
      const { createRequire } = await import("node:module");
      console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache).filter((k) => /fastify|sharp|onnxruntime|pdfjs|transformers/.test(k))));`;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8" });
    expect(JSON.parse(out)).toEqual([]);
  });
});
