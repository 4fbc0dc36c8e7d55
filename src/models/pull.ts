/**
 * `models pull`: download the files one precision needs, resumably and verified, so that a model
 * directory only ever appears complete.
 *
 * - Only what the dtype needs: root-level config/tokenizer/processor files (json, jinja, txt) and
 *   `onnx/{embed_tokens,vision_encoder,decoder_model_merged}<suffix>.onnx` with their
 *   `.onnx_data*` external weights.
 * - Pinned: the revision is resolved to a commit first and every file comes from that commit.
 * - Resumable: each file streams into `<name>.part` inside a staging directory
 *   (`.<dtype>.partial`); an interrupted transfer continues with an HTTP Range request, within
 *   the same run (a few retries) or the next one.
 * - Verified: sizes and hashes from the hub's tree API (LFS sha256, or the git blob id).
 * - Atomic: the manifest is written last into the staging directory, which is then renamed to
 *   `<dtype>/`. A model counts as present only with its manifest, so a failed or interrupted pull
 *   never leaves something that loads.
 */
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { dtypeLabel, isConfigFile, isSpecFile, onnxFiles, type DtypeSpec } from "./dtypes.js";
import { explain, HubError, listRepoFiles, resolveCommit, resolveUrl, type Hub, type RemoteFile } from "./hub.js";
import { MANIFEST, pulledDir, stagingDir } from "./paths.js";
import { readManifest, type Manifest } from "./store.js";

export interface PullOptions {
  repo: string;
  revision: string;
  spec: DtypeSpec;
  root: string;
  hub: Hub;
  signal?: AbortSignal;
  /** Attempts per file before giving up (default 4). */
  attempts?: number;
  /** Delay before retry n (ms); default 500·n. */
  retryDelayMs?: (attempt: number) => number;
  onEvent?: (event: PullEvent) => void;
}

export type PullEvent =
  | { type: "start"; commit: string; files: RemoteFile[]; total: number; done: number }
  | { type: "progress"; file: string; bytes: number; total: number }
  | { type: "file"; file: string; size: number; fetched: boolean }
  | { type: "retry"; file: string; attempt: number; error: string };

export interface PullResult {
  dir: string;
  commit: string;
  /** Already complete at that commit: nothing was downloaded. */
  upToDate: boolean;
  /** Bytes transferred in this run. */
  fetchedBytes: number;
}

const STATE = ".pull-state.json";

export async function pullModel(options: PullOptions): Promise<PullResult> {
  const { repo, hub, spec } = options;
  const label = dtypeLabel(spec);
  const commit = await resolveCommit(hub, repo, options.revision);
  const final = pulledDir(options.root, repo, label);
  const current = readManifest(final);
  if (current && current.commit === commit && current.repo === repo) {
    return { dir: final, commit, upToDate: true, fetchedBytes: 0 };
  }

  const remote = await listRepoFiles(hub, repo, commit);
  const wanted = remote.filter((f) => isConfigFile(f.path) || isSpecFile(f.path, spec));
  const missing = ["config.json", ...onnxFiles(spec)].filter((p) => !wanted.some((f) => f.path === p));
  if (missing.length) {
    throw new HubError(`${repo}@${options.revision} has no ${label} model: ${missing.join(", ")} not in the repo`);
  }

  const staging = stagingDir(options.root, repo, label);
  const unlock = await lock(`${staging}.lock`, `${repo} (${label})`);
  try {
    return await pullInto(options, staging, final, commit, wanted, label);
  } finally {
    await unlock();
  }
}

async function pullInto(options: PullOptions, staging: string, final: string, commit: string, wanted: RemoteFile[], label: string): Promise<PullResult> {
  const { repo, hub, spec } = options;
  await prepareStaging(staging, repo, commit);
  const total = wanted.reduce((sum, f) => sum + f.size, 0);
  let done = 0;
  for (const file of wanted) done += await completedBytes(staging, file);
  options.onEvent?.({ type: "start", commit, files: wanted, total, done });

  let fetchedBytes = 0;
  for (const file of wanted) {
    const dest = path.join(staging, file.path);
    if (await isComplete(dest, file)) {
      options.onEvent?.({ type: "file", file: file.path, size: file.size, fetched: false });
      continue;
    }
    fetchedBytes += await download(options, commit, file, dest, (bytes) => {
      done += bytes;
      options.onEvent?.({ type: "progress", file: file.path, bytes: done, total });
    });
    options.onEvent?.({ type: "file", file: file.path, size: file.size, fetched: true });
  }

  const manifest: Manifest = {
    format: 1,
    repo,
    revision: options.revision,
    commit,
    dtype: label,
    spec,
    hub: hub.endpoint,
    files: wanted.map((f) => ({ path: f.path, size: f.size, ...(f.sha256 ? { sha256: f.sha256 } : {}), ...(f.oid ? { oid: f.oid } : {}) })),
    pulledAt: new Date().toISOString(),
  };
  await writeFile(path.join(staging, MANIFEST), JSON.stringify(manifest, null, 2) + "\n");
  await rm(path.join(staging, STATE), { force: true });
  await swapIn(staging, final);
  return { dir: final, commit, upToDate: false, fetchedBytes };
}

/** One pull per model directory at a time; a lock left by a process that is gone is taken over. */
async function lock(file: string, what: string): Promise<() => Promise<void>> {
  await mkdir(path.dirname(file), { recursive: true });
  for (let tries = 0; ; tries++) {
    try {
      const handle = await open(file, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || tries > 0) throw err;
      const pid = Number(await readFile(file, "utf8").catch(() => ""));
      if (pid > 0 && pid !== process.pid && alive(pid)) {
        throw new HubError(`another qwen-ocr (pid ${pid}) is pulling ${what}; wait for it, or remove ${file} if it is gone`);
      }
      await rm(file, { force: true });
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A staging directory for this commit: kept (to resume) when it is for the same commit, else emptied. */
async function prepareStaging(staging: string, repo: string, commit: string): Promise<void> {
  try {
    const state = JSON.parse(await readFile(path.join(staging, STATE), "utf8")) as { repo?: string; commit?: string };
    if (state.repo === repo && state.commit === commit) return;
  } catch {
    // No state: nothing to resume.
  }
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await writeFile(path.join(staging, STATE), JSON.stringify({ repo, commit }) + "\n");
}

/** Bytes of a file already on disk in the staging directory (complete, or its .part). */
async function completedBytes(staging: string, file: RemoteFile): Promise<number> {
  const dest = path.join(staging, file.path);
  if (await isComplete(dest, file)) return file.size;
  const part = await size(`${dest}.part`);
  return part !== undefined && part <= file.size ? part : 0;
}

/** Finished files were verified before they got their final name: the size is enough. */
async function isComplete(dest: string, file: RemoteFile): Promise<boolean> {
  return (await size(dest)) === file.size;
}

async function download(options: PullOptions, commit: string, file: RemoteFile, dest: string, onBytes: (n: number) => void): Promise<number> {
  const attempts = options.attempts ?? 4;
  const delay = options.retryDelayMs ?? ((n: number) => 500 * n);
  const part = `${dest}.part`;
  await mkdir(path.dirname(dest), { recursive: true });
  let fetched = 0;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      fetched += await transfer(options, commit, file, part, onBytes);
      const actual = await size(part);
      if (actual !== file.size) throw new RetryableError(`${file.path}: got ${actual} bytes, expected ${file.size}`);
      await verify(part, file);
      await rename(part, dest);
      return fetched;
    } catch (err) {
      const retryable = err instanceof RetryableError || (!(err instanceof HubError) && !options.signal?.aborted);
      if (err instanceof ChecksumError) await rm(part, { force: true });
      if (!retryable || attempt >= attempts) {
        if (err instanceof HubError) throw err;
        throw new HubError(`downloading ${file.path} failed after ${attempt} attempt${attempt > 1 ? "s" : ""}: ${message(err)}; run the same command again to resume`, { cause: err });
      }
      options.onEvent?.({ type: "retry", file: file.path, attempt, error: message(err) });
      await sleep(delay(attempt), options.signal);
    }
  }
}

/** Appends the rest of the file to `part` (Range from its current size); returns bytes received. */
async function transfer(options: PullOptions, commit: string, file: RemoteFile, part: string, onBytes: (n: number) => void): Promise<number> {
  let offset = (await size(part)) ?? 0;
  if (offset > file.size) {
    await rm(part, { force: true });
    offset = 0;
  }
  if (offset === file.size) return 0;
  const url = resolveUrl(options.hub, options.repo, commit, file.path);
  let response: Response;
  try {
    response = await (options.hub.fetch ?? fetch)(url, {
      headers: {
        ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}),
        ...(options.hub.token ? { Authorization: `Bearer ${options.hub.token}` } : {}),
      },
      signal: options.signal,
    });
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw new RetryableError(explain(err, options.hub, file.path).message);
  }
  if (response.status === 416) {
    // The server has nothing past our offset: start over.
    await response.body?.cancel();
    await rm(part, { force: true });
    throw new RetryableError(`${file.path}: the server refused to resume (HTTP 416)`);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    const status = `HTTP ${response.status}`;
    if (response.status >= 500 || response.status === 408 || response.status === 429) throw new RetryableError(`${file.path}: ${status}`);
    if (response.status === 401 || response.status === 403) throw new HubError(`${options.hub.endpoint} refused ${file.path} (${status}); set HF_TOKEN`);
    throw new HubError(`${options.hub.endpoint} answered ${status} for ${file.path}`);
  }
  // A 200 to a Range request is the whole file again.
  const append = offset > 0 && response.status === 206;
  if (!append && offset > 0) onBytes(-offset);
  const handle = await open(part, append ? "a" : "w");
  let received = 0;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      await handle.write(chunk);
      received += chunk.byteLength;
      onBytes(chunk.byteLength);
    }
  } catch (err) {
    if (options.signal?.aborted) throw err;
    throw new RetryableError(`${file.path}: the connection dropped after ${offset + received} of ${file.size} bytes (${message(err)})`);
  } finally {
    await handle.close();
  }
  return received;
}

async function verify(part: string, file: RemoteFile): Promise<void> {
  if (file.sha256) {
    const actual = await hashFile(part, "sha256");
    if (actual !== file.sha256) throw new ChecksumError(`${file.path}: sha256 ${actual} does not match the hub's ${file.sha256}`);
  } else if (file.oid) {
    const actual = await hashFile(part, "sha1", `blob ${file.size}\0`);
    if (actual !== file.oid) throw new ChecksumError(`${file.path}: git blob id ${actual} does not match the hub's ${file.oid}`);
  }
}

function hashFile(file: string, algorithm: "sha256" | "sha1", prefix = ""): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash(algorithm);
    if (prefix) hash.update(prefix);
    createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

/** Replaces `final` with the finished staging directory; the old copy goes only once the new one is in place. */
async function swapIn(staging: string, final: string): Promise<void> {
  let old: string | undefined;
  if (existsSync(final)) {
    old = `${path.join(path.dirname(final), "." + path.basename(final))}.old-${process.pid}`;
    await rename(final, old);
  }
  await rename(staging, final);
  if (old) await rm(old, { recursive: true, force: true });
}

class RetryableError extends Error {}

class ChecksumError extends RetryableError {}

async function size(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).size;
  } catch {
    return undefined;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
