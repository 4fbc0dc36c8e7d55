/**
 * The web page: a fixed list of files from the package's `web/` folder, read once at start and
 * served from memory. A request's path only ever selects an entry of this list.
 */
import { readFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import path from "node:path";

/** `web/` at the package root, beside `dist/` and `src/`. */
export const WEB_DIR = fileURLToPath(new URL("../../web/", import.meta.url));

const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/style.css": { file: "style.css", type: "text/css; charset=utf-8" },
  "/favicon.svg": { file: "favicon.svg", type: "image/svg+xml" },
};

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

export async function loadAssets(dir = WEB_DIR): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const [route, { file, type }] of Object.entries(FILES)) {
    const body = await readFile(path.join(dir, file));
    assets.set(route, { body, type, etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 16)}"` });
  }
  return assets;
}

/** The page runs only its own script and style, and talks only to this server. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");
