/**
 * The Hugging Face Hub, as `models pull` uses it: resolve a revision to a commit and list the
 * repo's files with their sizes and hashes (@huggingface/hub's modelInfo and listFiles: the
 * `/api/models/<repo>/revision/<rev>` and `/api/models/<repo>/tree/<commit>` endpoints); files
 * themselves come from `/<repo>/resolve/<commit>/<path>` (see pull.ts). `HF_ENDPOINT` points all
 * of it at a mirror, or at a local server in tests.
 */
import { HubApiError, listFiles, modelInfo } from "@huggingface/hub";

export const DEFAULT_ENDPOINT = "https://huggingface.co";

export interface Hub {
  endpoint: string;
  token?: string;
  fetch?: typeof fetch;
}

export interface RemoteFile {
  path: string;
  size: number;
  /** LFS files: sha256 of the content. */
  sha256?: string;
  /** Git blob id (sha1 of "blob <size>\0" + content), for files kept in git. */
  oid?: string;
}

/** A failure talking to the hub (exit 1): the message says what to do. */
export class HubError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HubError";
  }
}

export function hubFromEnv(env: NodeJS.ProcessEnv): Hub {
  const token = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN;
  return { endpoint: (env.HF_ENDPOINT || DEFAULT_ENDPOINT).replace(/\/+$/, ""), ...(token ? { token } : {}) };
}

export function resolveUrl(hub: Hub, repo: string, commit: string, file: string): string {
  return `${hub.endpoint}/${repo}/resolve/${encodeURIComponent(commit)}/${file.split("/").map(encodeURIComponent).join("/")}`;
}

/** The commit a branch, tag or commit id points at. */
export async function resolveCommit(hub: Hub, repo: string, revision: string): Promise<string> {
  const info = await call(hub, repo, revision, () =>
    modelInfo({
      name: repo,
      revision,
      additionalFields: ["sha"],
      hubUrl: hub.endpoint,
      ...(hub.token ? { accessToken: hub.token } : {}),
      ...(hub.fetch ? { fetch: hub.fetch } : {}),
    }),
  );
  const sha = (info as { sha?: unknown }).sha;
  if (typeof sha === "string" && /^[0-9a-f]{40}$/.test(sha)) return sha;
  if (/^[0-9a-f]{40}$/.test(revision)) return revision;
  throw new HubError(`${hub.endpoint} did not say which commit ${repo}@${revision} is`);
}

/** Every file of the repo at a commit, with sizes and hashes. */
export async function listRepoFiles(hub: Hub, repo: string, commit: string): Promise<RemoteFile[]> {
  return call(hub, repo, commit, async () => {
    const files: RemoteFile[] = [];
    for await (const entry of listFiles({
      repo: { type: "model", name: repo },
      revision: commit,
      recursive: true,
      hubUrl: hub.endpoint,
      ...(hub.token ? { accessToken: hub.token } : {}),
      ...(hub.fetch ? { fetch: hub.fetch } : {}),
    })) {
      if (entry.type !== "file") continue;
      files.push({
        path: entry.path,
        size: entry.lfs?.size ?? entry.size,
        ...(entry.lfs?.oid ? { sha256: entry.lfs.oid } : {}),
        ...(!entry.lfs && entry.oid ? { oid: entry.oid } : {}),
      });
    }
    return files;
  });
}

async function call<T>(hub: Hub, repo: string, revision: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw explain(err, hub, `${repo}@${revision}`);
  }
}

/** A hub or network error as one actionable sentence. */
export function explain(err: unknown, hub: Hub, what: string): HubError {
  if (err instanceof HubError) return err;
  if (err instanceof HubApiError) {
    if (err.statusCode === 401 || err.statusCode === 403) {
      return new HubError(`${hub.endpoint} refused access to ${what} (HTTP ${err.statusCode}); set HF_TOKEN to a token that can read it`, { cause: err });
    }
    if (err.statusCode === 404) {
      return new HubError(`${what} was not found on ${hub.endpoint} (HTTP 404): check --model and --revision`, { cause: err });
    }
    return new HubError(`${hub.endpoint} answered HTTP ${err.statusCode} for ${what}: ${err.message}`, { cause: err });
  }
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : undefined;
  const detail = cause ? `${cause.message}` : err instanceof Error ? err.message : String(err);
  return new HubError(
    `cannot reach ${hub.endpoint} (${detail}); check the network, or set HF_ENDPOINT to a mirror`,
    { cause: err },
  );
}
