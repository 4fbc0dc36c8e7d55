/**
 * Who may talk to the service. A bearer token (compared in constant time) when one is set; on a
 * loopback address, only loopback host names (a web page elsewhere cannot reach it through DNS
 * rebinding); and no cross-site requests from browsers (another site's form cannot post to it).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import { RequestError } from "./options.js";

/** Whether `authorization` carries the token: `Bearer <token>`, compared in constant time. */
export function checkBearer(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? "");
  // Hashing both sides first makes the comparison independent of where they differ and of their lengths.
  const given = createHash("sha256").update(match ? match[1] : "").digest();
  const expected = createHash("sha256").update(token).digest();
  return timingSafeEqual(given, expected) && !!match;
}

export function unauthorized(hadHeader: boolean): RequestError {
  return new RequestError(
    401,
    "unauthorized",
    hadHeader ? "the token is wrong" : "this server needs a token: send 'Authorization: Bearer <token>'",
    { "www-authenticate": 'Bearer realm="qwen-ocr"' },
  );
}

/** 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || h === "0:0:0:0:0:0:0:1" || /^::ffff:127\./.test(h);
  return false;
}

/** The host name of a Host header (`[::1]:7860` → `::1`). */
export function hostName(hostHeader: string): string {
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(hostHeader);
  if (bracket) return bracket[1];
  return hostHeader.replace(/:\d+$/, "");
}

/**
 * Requests a browser might send on another site's behalf are refused: on a loopback-only server
 * the Host must be a loopback name, and a request with an Origin must come from this same host.
 */
export function checkOrigin(headers: { host?: string; origin?: string; "sec-fetch-site"?: string }, loopbackOnly: boolean): RequestError | undefined {
  const host = headers.host ?? "";
  if (loopbackOnly && !isLoopback(hostName(host))) {
    return new RequestError(403, "forbidden", `host '${host.slice(0, 100)}' is not allowed: this server answers on loopback names only (localhost, 127.0.0.1, [::1])`);
  }
  const origin = headers.origin;
  if (origin && origin !== "null") {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return new RequestError(403, "forbidden", "the request's Origin is not a URL");
    }
    if (originHost.toLowerCase() !== host.toLowerCase()) {
      return new RequestError(403, "forbidden", `cross-origin requests are not allowed (Origin ${origin.slice(0, 100)})`);
    }
  } else if (origin === "null" || headers["sec-fetch-site"] === "cross-site") {
    return new RequestError(403, "forbidden", "cross-origin requests are not allowed");
  }
  return undefined;
}
