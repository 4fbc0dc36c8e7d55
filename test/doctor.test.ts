import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { buildQwenFixture } from "../scripts/make-fixture-model.js";
import { uniform } from "../src/models/dtypes.js";
import { DEFAULT_MODEL, MANIFEST, pulledDir } from "../src/models/paths.js";
import type { Manifest } from "../src/models/store.js";
import type { DoctorReport } from "../src/cli/doctor.js";
import { ROOT, runCli, spawnCli } from "./helpers/cli.js";

let dir: string;
let fixture: string;

beforeAll(async () => {
  mkdirSync(path.join(ROOT, "test/.tmp"), { recursive: true });
  dir = mkdtempSync(path.join(ROOT, "test/.tmp/doctor-"));
  fixture = await buildQwenFixture(path.join(dir, "fixture"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const empty = () => ({ QWEN_OCR_HOME: mkdtempSync(path.join(dir, "home-")) });

/** No NVIDIA driver and no GPU device node: the kind of machine this suite was written on. */
const noGpuHere = !existsSync("/proc/driver/nvidia/version") && !existsSync("/dev/nvidia0") && !(existsSync("/dev/dri") && readdirSync("/dev/dri").some((e) => e.startsWith("renderD")));

describe("doctor", () => {
  it("without a model: ppocr for --engine auto, the device and why, what is missing and the fix", async () => {
    const env = empty();
    const { code, stdout, stderr } = await runCli(["doctor"], { env });
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(stdout).toContain("ppocr would run with --engine auto: the Qwen model is missing");
    expect(stdout).toContain(`models  ${path.join(env.QWEN_OCR_HOME, "models")}`);
    expect(stdout).toMatch(/\nmissing:\n {2}Qwen model onnx-community\/Qwen3-VL-2B-Instruct-ONNX: qwen-ocr models pull\n/);
    expect(stdout).toMatch(/^versions {2}qwen-ocr \S+, node v20\.\S+, @huggingface\/transformers 4\.3\.1, onnxruntime-node 1\.30\.0/m);
  });

  it.runIf(noGpuHere)("on this machine: cpu, and why cuda and webgpu are unavailable", async () => {
    const { stdout } = await runCli(["doctor"], { env: empty() });
    expect(stdout).toMatch(/^device {4}cpu \(ONNX Runtime execution provider: cpu\); auto: no usable GPU/m);
    expect(stdout).toMatch(/^ {10}cuda: unavailable: no NVIDIA driver found/m);
    expect(stdout).toMatch(/^ {10}webgpu: unavailable: .*(Vulkan|GPU device node)/m);
    expect(stdout).toMatch(/^ {10}cpu: usable$/m);
  });

  it("--json: the same facts, machine-readable", async () => {
    const { code, stdout } = await runCli(["doctor", "--json"], { env: { ...empty(), HF_ENDPOINT: "http://127.0.0.1:9", HF_TOKEN: "x" } });
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as DoctorReport;
    expect(report.engine.auto).toBe("ppocr");
    expect(report.model).toMatchObject({ id: DEFAULT_MODEL, present: false, installed: [] });
    expect(report.device.devices.map((d) => d.device)).toEqual(["cuda", "webgpu", "cpu"]);
    for (const d of report.device.devices) if (!d.ok) expect(d.reason!.length).toBeGreaterThan(20);
    expect(report.device.selected).toBe(report.device.devices.find((d) => d.ok)!.device);
    if (noGpuHere) expect(report.device).toMatchObject({ selected: "cpu", provider: "cpu" });
    expect(report.hub).toEqual({ endpoint: "http://127.0.0.1:9", offline: false, token: true });
    expect(report.missing).toEqual([{ what: `Qwen model ${DEFAULT_MODEL}`, fix: "qwen-ocr models pull" }]);
  });

  it("with a model directory: qwen, its dtype and why, the installed dtypes", async () => {
    const { stdout } = await runCli(["doctor", "--json", "--model", fixture], { env: empty() });
    const report = JSON.parse(stdout) as DoctorReport;
    expect(report.engine.auto).toBe("qwen");
    expect(report.engine.engines).toEqual([
      { name: "qwen", available: true },
      { name: "ppocr", available: true },
    ]);
    expect(report.model).toMatchObject({ id: fixture, present: true, source: "directory", dir: fixture, installed: ["q4f16", "q4", "fp16", "fp32"] });
    if (noGpuHere) expect(report.model).toMatchObject({ dtype: "q4", dtypeWhy: "the first installed in the order for cpu: q4, q4f16, fp32, fp16" });
    expect(report.missing).toEqual([]);
    const text = await runCli(["doctor", "--model", fixture, "--dtype", "fp16"], { env: empty() });
    expect(text.stdout).toContain("dtype fp16 (--dtype)");
    expect(text.stdout).toContain("nothing missing");
  });

  it("with a pulled model: its repo, revision and dtype", async () => {
    const env = empty();
    const root = path.join(env.QWEN_OCR_HOME, "models");
    const target = pulledDir(root, DEFAULT_MODEL, "q4f16");
    await buildQwenFixture(target, { dtypes: ["q4f16"] });
    const manifest: Manifest = { format: 1, repo: DEFAULT_MODEL, revision: "main", commit: "c".repeat(40), dtype: "q4f16", spec: uniform("q4f16"), hub: "https://huggingface.co", files: [], pulledAt: "2026-01-01T00:00:00Z" };
    writeFileSync(path.join(target, MANIFEST), JSON.stringify(manifest));
    const report = JSON.parse((await runCli(["doctor", "--json"], { env })).stdout) as DoctorReport;
    expect(report.engine.auto).toBe("qwen");
    expect(report.model).toMatchObject({ id: DEFAULT_MODEL, present: true, source: "pulled", revision: "c".repeat(40), dtype: "q4f16", installed: ["q4f16"] });
    const text = (await runCli(["doctor"], { env })).stdout;
    expect(text).toContain(`model     ${DEFAULT_MODEL} @ cccccccccccc`);
    // Asked for a dtype that is not there: the pull command for it.
    const other = JSON.parse((await runCli(["doctor", "--json", "--dtype", "q4"], { env })).stdout) as DoctorReport;
    expect(other.missing).toEqual([{ what: `Qwen model ${DEFAULT_MODEL} (q4)`, fix: "qwen-ocr models pull --dtype q4" }]);
  });

  it.runIf(noGpuHere)("--device cuda here: no device, and how to get CUDA", async () => {
    const report = JSON.parse((await runCli(["doctor", "--json", "--device", "cuda"], { env: empty() })).stdout) as DoctorReport;
    expect(report.device.selected).toBeUndefined();
    expect(report.device.why).toMatch(/^device cuda is not available: no NVIDIA driver found/);
    expect(report.missing[0]).toMatchObject({ what: "device cuda", fix: expect.stringContaining("ONNXRUNTIME_NODE_INSTALL=cuda12") });
  });

  it("the built command answers quickly", async () => {
    const started = Date.now();
    const { code, stdout } = await spawnCli(["doctor", "--json"], { env: empty() });
    expect(code).toBe(0);
    expect(JSON.parse(stdout).versions["onnxruntime-node"]).toBe("1.30.0");
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
