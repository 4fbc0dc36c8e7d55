/**
 * Which execution provider can run here. transformers.js' own `device: "auto"` throws on Linux x64
 * when the CUDA libraries are absent instead of falling back, so qwen-ocr probes each device itself:
 * cheap file-system checks first (provider libraries, GPU driver, Vulkan loader, device nodes), and
 * only when those pass, a real ONNX Runtime session on a one-node model with that provider.
 */
import { existsSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { UsageError } from "../../errors.js";

export const DEVICE_REQUESTS = ["auto", "cpu", "cuda", "webgpu"] as const;
export type DeviceRequest = (typeof DEVICE_REQUESTS)[number];
export type Device = Exclude<DeviceRequest, "auto">;

export interface DeviceStatus {
  device: Device;
  ok: boolean;
  /** Why it cannot be used, and what would fix it. */
  reason?: string;
  /** The ONNX Runtime execution provider behind it. */
  provider: string;
  /** Whether a GPU for it seems to be there (a driver or device node), usable or not. */
  gpuFound: boolean;
}

export interface DeviceChoice {
  device: Device;
  provider: string;
  /**
   * Set when `auto` fell back from a GPU that is there but cannot be used (e.g. an NVIDIA driver
   * without onnxruntime's CUDA provider): one line saying what was skipped and why. A machine
   * with no GPU at all gets no note: cpu is not a fallback there.
   */
  note?: string;
  /** What was probed, in order. */
  statuses: DeviceStatus[];
}

/** `auto` tries these in order, like transformers.js (minus the crash). */
const AUTO_ORDER: Device[] = ["cuda", "webgpu", "cpu"];

const PROVIDER: Record<Device, string> = { cpu: "cpu", cuda: "cuda", webgpu: "webgpu" };

/** A one-node ONNX model (Identity, float[1]) to try creating a session with. */
const PROBE_MODEL = "CAg6OwoQCgF4EgF5IghJZGVudGl0eRIFcHJvYmVaDwoBeBIKCggIARIECgIIAWIPCgF5EgoKCAgBEgQKAggBQgQKABAR";

export const CUDA_INSTALL_HINT =
  "reinstall onnxruntime-node with its CUDA 12 provider: ONNXRUNTIME_NODE_INSTALL=cuda12 npm install onnxruntime-node " +
  "(npm 11: also allow its install script), with CUDA 12 and cuDNN 9 installed";

export function isDeviceRequest(value: string): value is DeviceRequest {
  return (DEVICE_REQUESTS as readonly string[]).includes(value);
}

const memo = new Map<Device, Promise<DeviceStatus>>();

/** Whether a device can run here (memoised per process). */
export function checkDevice(device: Device): Promise<DeviceStatus> {
  let status = memo.get(device);
  if (!status) {
    status = probe(device);
    memo.set(device, status);
  }
  return status;
}

/** Picks the device for a request; an explicit device that cannot run is a usage error. */
export async function chooseDevice(request: DeviceRequest): Promise<DeviceChoice> {
  if (request !== "auto") {
    const status = await checkDevice(request);
    if (!status.ok) throw new UsageError(`device ${request} is not available: ${status.reason}`);
    return { device: request, provider: status.provider, statuses: [status] };
  }
  const statuses: DeviceStatus[] = [];
  for (const device of AUTO_ORDER) {
    const status = await checkDevice(device);
    statuses.push(status);
    if (status.ok) {
      const skipped = statuses.filter((s) => !s.ok);
      const note = skipped.some((s) => s.gpuFound)
        ? `device auto: using ${device} (${skipped.map((s) => `${s.device}: ${s.reason}`).join("; ")})`
        : undefined;
      return { device, provider: status.provider, statuses, ...(note ? { note } : {}) };
    }
  }
  // Unreachable in practice: the CPU provider is always built in.
  throw new UsageError(`no device can run the model (${statuses.map((s) => `${s.device}: ${s.reason}`).join("; ")})`);
}

async function probe(device: Device): Promise<DeviceStatus> {
  const provider = PROVIDER[device];
  if (device === "cpu") return { device, ok: true, provider, gpuFound: false };
  const gpuFound = device === "cuda" ? hasNvidiaDriver() : process.platform !== "linux" || hasGpuDeviceNode();
  const blocker = device === "cuda" ? cudaBlocker() : webgpuBlocker();
  if (blocker) return { device, ok: false, provider, reason: blocker, gpuFound };
  const failure = await trySession(provider);
  return failure ? { device, ok: false, provider, reason: failure, gpuFound } : { device, ok: true, provider, gpuFound };
}

function hasNvidiaDriver(): boolean {
  return existsSync("/proc/driver/nvidia/version") || findLibrary("libcuda.so.1") !== undefined;
}

/** Why CUDA cannot work here, from the file system alone; undefined when it might. */
function cudaBlocker(): string | undefined {
  if (process.platform !== "linux" || process.arch !== "x64") {
    return `onnxruntime-node has CUDA support on Linux x64 only (this is ${process.platform}/${process.arch})`;
  }
  const reasons: string[] = [];
  if (!hasNvidiaDriver()) {
    reasons.push("no NVIDIA driver found (no /proc/driver/nvidia/version, no libcuda.so.1)");
  }
  const bin = ortBinDir();
  const missing = ["libonnxruntime_providers_cuda.so", "libonnxruntime_providers_shared.so"].filter(
    (lib) => !bin || !existsSync(path.join(bin, lib)),
  );
  if (missing.length) {
    reasons.push(`onnxruntime-node has no CUDA provider (${missing.join(", ")} missing; install it with ONNXRUNTIME_NODE_INSTALL=cuda12)`);
  }
  return reasons.length ? reasons.join("; ") : undefined;
}

/** Why WebGPU cannot work here, from the file system alone; undefined when it might. */
function webgpuBlocker(): string | undefined {
  const bundled = ["linux/x64", "win32/x64", "win32/arm64", "darwin/x64", "darwin/arm64"];
  if (!bundled.includes(`${process.platform}/${process.arch}`)) {
    return `onnxruntime-node has no WebGPU provider for ${process.platform}/${process.arch}`;
  }
  if (process.platform !== "linux") return undefined;
  const reasons: string[] = [];
  if (!findLibrary("libvulkan.so.1")) reasons.push("no Vulkan loader (libvulkan.so.1) found, which WebGPU needs on Linux");
  if (!hasGpuDeviceNode()) reasons.push("no GPU device node (/dev/dri/renderD*, /dev/nvidia0 or /dev/dxg)");
  return reasons.length ? reasons.join("; ") : undefined;
}

/** Creates a session with only this provider; returns the error's first line, or undefined. */
async function trySession(provider: string): Promise<string | undefined> {
  try {
    const ort = await import("onnxruntime-node");
    const session = await ort.InferenceSession.create(Buffer.from(PROBE_MODEL, "base64"), {
      executionProviders: [provider],
      logSeverityLevel: 4,
    });
    await session.release();
    return undefined;
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split("\n")[0]!.trim();
    // Native messages start with a source location and an assertion; keep the readable end.
    const readable = message.replace(/^.*\bwas false\.\s*/, "").replace(/^\S+\.cc:\d+\s+/, "");
    return `ONNX Runtime could not start the ${provider} provider: ${readable}`;
  }
}

function ortBinDir(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve("onnxruntime-node/package.json");
    return path.join(path.dirname(pkg), "bin", "napi-v6", process.platform, process.arch);
  } catch {
    return undefined;
  }
}

function findLibrary(name: string): string | undefined {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean),
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/local/lib",
    "/usr/lib/wsl/lib",
  ];
  return dirs.map((d) => path.join(d, name)).find((p) => existsSync(p));
}

function hasGpuDeviceNode(): boolean {
  if (existsSync("/dev/nvidia0") || existsSync("/dev/dxg")) return true;
  try {
    return readdirSync("/dev/dri").some((e) => e.startsWith("renderD"));
  } catch {
    return false;
  }
}
