/** `qwen-ocr models pull|list|path|rm`. */
import type { Writable } from "node:stream";
import { UsageError } from "../errors.js";
import { ExitCode } from "../types.js";
import { dtypeLabel, parseDtype, preferredDtypes, type DtypeSpec, uniform } from "../models/dtypes.js";
import { DEFAULT_MODEL, DEFAULT_REVISION, isRepoId, modelsRoot, pulledDir } from "../models/paths.js";
import { listPartial, listPulled, removePulled } from "../models/store.js";
import { Reporter, type CliIO } from "./io.js";
import type { ModelsFlags } from "./program.js";

function root(flags: ModelsFlags, io: CliIO): string {
  return modelsRoot({ modelDir: flags.modelDir, env: io.env, cwd: io.cwd });
}

function repoOf(flags: ModelsFlags): string {
  const repo = flags.model?.trim() || DEFAULT_MODEL;
  if (!isRepoId(repo)) throw new UsageError(`--model must be a hub repo id (owner/name), not '${repo}'`);
  return repo;
}

export async function runPull(flags: ModelsFlags, io: CliIO): Promise<number> {
  const reporter = new Reporter(io.stderr, flags.quiet === true);
  const repo = repoOf(flags);
  if (flags.offline || io.env.HF_HUB_OFFLINE === "1") {
    throw new UsageError(
      `cannot download ${repo} offline (${flags.offline ? "--offline" : "HF_HUB_OFFLINE=1"}); ` +
        "pull on a connected machine and copy the models directory (qwen-ocr models path), or use --model DIR",
    );
  }
  let spec: DtypeSpec;
  if (flags.dtype) {
    spec = parseDtype(flags.dtype);
  } else {
    const { chooseDevice } = await import("../engines/qwen/device.js");
    const device = (await chooseDevice("auto")).device;
    spec = uniform(preferredDtypes(device)[0]!);
    reporter.note(`pulling ${dtypeLabel(spec)}, the precision for ${device} here (choose another with --dtype)`);
  }
  const [{ pullModel }, { hubFromEnv, HubError }] = await Promise.all([import("../models/pull.js"), import("../models/hub.js")]);
  const progress = await pullProgress(io, flags.quiet === true, reporter);
  try {
    const result = await pullModel({
      repo,
      revision: flags.revision || DEFAULT_REVISION,
      spec,
      root: root(flags, io),
      hub: hubFromEnv(io.env),
      onEvent: (event) => {
        if (event.type === "start") progress.start(event.total, event.done, event.files.length, event.commit);
        else if (event.type === "progress") progress.update(event.bytes, event.file);
        else if (event.type === "file") progress.file(event.file, event.size, event.fetched);
        else if (event.type === "retry") progress.retry(`${event.file}: ${event.error}; retrying (attempt ${event.attempt + 1})`);
      },
    });
    progress.stop();
    reporter.note(
      result.upToDate
        ? `${repo} (${dtypeLabel(spec)}) is up to date at ${result.commit.slice(0, 12)}`
        : `${repo} (${dtypeLabel(spec)}) at ${result.commit.slice(0, 12)} is ready (${formatBytes(result.fetchedBytes)} downloaded)`,
    );
    io.stdout.write(`${result.dir}\n`);
    return ExitCode.Ok;
  } catch (err) {
    progress.stop();
    if (err instanceof HubError) {
      reporter.error(err.message);
      return ExitCode.InputFailed;
    }
    throw err;
  }
}

export async function runList(flags: ModelsFlags, io: CliIO): Promise<number> {
  const dir = root(flags, io);
  const models = listPulled(dir);
  const partial = listPartial(dir);
  if (flags.json) {
    io.stdout.write(JSON.stringify({ root: dir, models, partial }, null, 2) + "\n");
    return ExitCode.Ok;
  }
  if (models.length === 0) {
    io.stderr.write(`qwen-ocr: no models in ${dir}; fetch one with \`qwen-ocr models pull\`\n`);
  } else {
    const rows = [["MODEL", "DTYPE", "COMMIT", "SIZE", "PATH"], ...models.map((m) => [m.repo, m.dtype, m.commit.slice(0, 12), formatBytes(m.bytes), m.dir])];
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    for (const row of rows) io.stdout.write(row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]!) : cell)).join("  ") + "\n");
  }
  for (const p of partial) io.stderr.write(`qwen-ocr: unfinished download in ${p} (run \`qwen-ocr models pull\` again to resume, or \`qwen-ocr models rm\`)\n`);
  return ExitCode.Ok;
}

export async function runPath(flags: ModelsFlags, io: CliIO): Promise<number> {
  const { resolveModel } = await import("../models/resolve.js");
  const dir = root(flags, io);
  const model = flags.model?.trim() || DEFAULT_MODEL;
  const spec = flags.dtype ? parseDtype(flags.dtype) : undefined;
  const found = resolveModel({ model, dtype: spec, root: dir, cwd: io.cwd, preferred: preferredDtypes("cpu") });
  if (found.ok) {
    io.stdout.write(`${found.location.dir}\n`);
    return ExitCode.Ok;
  }
  if (isRepoId(model)) io.stdout.write(`${pulledDir(dir, model, dtypeLabel(spec ?? uniform(preferredDtypes("cpu")[0]!)))}\n`);
  const { missingMessage } = await import("../engines/qwen/index.js");
  io.stderr.write(`qwen-ocr: ${missingMessage(found)}\n`);
  return ExitCode.ModelMissing;
}

export async function runRemove(flags: ModelsFlags, io: CliIO): Promise<number> {
  const repo = repoOf(flags);
  const spec = flags.dtype ? parseDtype(flags.dtype) : undefined;
  const removed = removePulled(root(flags, io), repo, spec);
  if (removed.length === 0) {
    io.stderr.write(`qwen-ocr: ${repo}${spec ? ` (${dtypeLabel(spec)})` : ""} is not downloaded; nothing removed\n`);
  } else {
    for (const dir of removed) io.stderr.write(`qwen-ocr: removed ${dir}\n`);
  }
  return ExitCode.Ok;
}

interface PullProgress {
  start(total: number, done: number, files: number, commit: string): void;
  update(bytes: number, file: string): void;
  file(file: string, size: number, fetched: boolean): void;
  retry(message: string): void;
  stop(): void;
}

/** A byte progress bar on a TTY (cli-progress); elsewhere one line per file fetched. */
async function pullProgress(io: CliIO, quiet: boolean, reporter: Reporter): Promise<PullProgress> {
  if (quiet) return { start() {}, update() {}, file() {}, retry() {}, stop() {} };
  const stream = io.stderr as Writable & { isTTY?: boolean };
  if (!stream.isTTY || io.env.CI) {
    return {
      start: (total, done, files, commit) =>
        reporter.note(`pulling ${files} files (${formatBytes(total)}) at ${commit.slice(0, 12)}${done ? `, resuming after ${formatBytes(done)}` : ""}`),
      update() {},
      file: (file, size, fetched) => {
        if (fetched) reporter.note(`fetched ${file} (${formatBytes(size)})`);
      },
      retry: (message) => reporter.note(message),
      stop() {},
    };
  }
  const { default: cliProgress } = await import("cli-progress");
  let bar: InstanceType<typeof cliProgress.SingleBar> | undefined;
  const started = performance.now();
  let startBytes = 0;
  const payload = (bytes: number, total: number, file: string) => {
    const seconds = (performance.now() - started) / 1000;
    return {
      file,
      size: `${formatBytes(bytes)}/${formatBytes(total)}`,
      speed: seconds > 0.5 ? `${formatBytes((bytes - startBytes) / seconds)}/s` : "",
    };
  };
  let total = 0;
  let current = 0;
  return {
    start(t, done) {
      total = t;
      current = done;
      startBytes = done;
      bar = new cliProgress.SingleBar({
        stream,
        format: "{bar} {percentage}% | {size} | {speed} | {file}",
        barCompleteChar: "█",
        barIncompleteChar: "░",
        hideCursor: true,
        clearOnComplete: false,
      });
      bar.start(total, done, payload(done, total, ""));
    },
    update(bytes, file) {
      current = bytes;
      bar?.update(bytes, payload(bytes, total, file));
    },
    file() {},
    retry(message) {
      bar?.stop();
      reporter.note(message);
      bar?.start(total, current, payload(current, total, ""));
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
