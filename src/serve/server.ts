/**
 * `qwen-ocr serve`: the scan pipeline behind HTTP. One process keeps its engines loaded and runs
 * the library's `scan()` for each upload, so a request costs a page's work, not a model load.
 *
 *   POST /v1/ocr           a file → a DocumentRecord (JSON), or PageRecords streamed as NDJSON
 *   GET  /v1/templates     the prompt templates
 *   GET  /v1/health        engine, model, device, queue
 *   GET  /v1/openapi.json  OpenAPI 3.1
 *   GET  /                 the web page (web/)
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import fastifyMultipart from "@fastify/multipart";
import { scan } from "../api.js";
import { engineNames, getEngineFactory, loadPlugin } from "../engines/registry.js";
import { UsageError } from "../errors.js";
import { toDocument } from "../output/document.js";
import { createFormatter } from "../output/format.js";
import { selectedPages } from "../pages/index.js";
import { ExitCode, type Engine, type EngineFactory, type EngineInfo, type EngineOptions, type PageRecord } from "../types.js";
import { VERSION } from "../version.js";
import { checkBearer, checkOrigin, isLoopback, unauthorized } from "./auth.js";
import { buildOpenApi } from "./openapi.js";
import { addRaw, badRequest, displayName, parseOptions, RequestError, type RawOptions, type RequestOptions } from "./options.js";
import { EnginePool, type Lease } from "./pool.js";
import { JobQueue, QueueFullError, type QueueStats, type Ticket } from "./queue.js";
import { CONTENT_SECURITY_POLICY, loadAssets, WEB_DIR } from "./static.js";
import { formatBytes, receiveUpload, type Upload } from "./upload.js";

export const DEFAULTS = {
  host: "127.0.0.1",
  port: 7860,
  maxUploadMb: 50,
  maxPages: 100,
  concurrency: 1,
  queue: 16,
  pageTimeoutS: 600,
} as const;

export interface ServeOptions {
  /** Address to bind; default 127.0.0.1 (loopback only). */
  host?: string;
  /** Port; default 7860, 0 for any free port. */
  port?: number;
  /** When set, every API request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Largest upload in bytes; default 50 MiB. */
  maxUploadBytes?: number;
  /** Most pages one request may read (after `pages` selection); default 100. */
  maxPages?: number;
  /** Requests OCRed at once (each with its own engine instance); default 1. */
  concurrency?: number;
  /** Requests that may wait for a slot; beyond that, 503. Default 16. */
  queue?: number;
  /** The server's engine: a name (`auto` by default) or one already loaded (not closed by the server). */
  engine?: string | Engine;
  engineOptions?: EngineOptions;
  /** Modules that register extra engines. */
  plugins?: string[];
  /** Default PDF resolution. */
  dpi?: number;
  /** A page taking longer fails with `timeout`; default 600 s, 0 for no limit. */
  pageTimeoutMs?: number;
  cwd?: string;
  /** Where each upload's private directory is made; default the system's temporary directory. */
  tmpDir?: string;
  /** One line per request (method, path, status, pages, ms); none when absent. */
  log?: (line: string) => void;
  /** Notes for the operator (engine choice, warnings). */
  onNote?: (message: string) => void;
  /** Where the web page's files are; default the package's `web/`. */
  webDir?: string;
}

export interface HealthReport {
  status: "ok" | "draining";
  engine: string;
  model: string;
  revision?: string;
  dtype?: string;
  device?: string;
  queue: QueueStats;
  engines: Array<{ name: string; description: string; generative: boolean; loaded: number }>;
  limits: { maxUploadBytes: number; maxPages: number };
  version: string;
  uptimeS: number;
}

export interface OcrServer {
  /** `http://host:port/` as a client would use it. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The server's engine. */
  readonly info: EngineInfo;
  health(): HealthReport;
  /** Graceful: new and queued requests get 503, running ones finish, then the server closes. */
  shutdown(): Promise<void>;
  /** Now: running requests stop after their page in flight, then the server closes. */
  close(): Promise<void>;
}

interface Job {
  controller: AbortController;
  ticket: Ticket;
  started: boolean;
}

const shuttingDown = () => new RequestError(503, "shutting_down", "the server is shutting down", { "retry-after": "10", connection: "close" });

/** Starts the server once its engine is loaded; resolves when it is listening. */
export async function startServer(options: ServeOptions = {}): Promise<OcrServer> {
  const host = options.host ?? DEFAULTS.host;
  const concurrency = options.concurrency ?? DEFAULTS.concurrency;
  const maxUploadBytes = options.maxUploadBytes ?? DEFAULTS.maxUploadMb * 1024 * 1024;
  const maxPages = options.maxPages ?? DEFAULTS.maxPages;
  const pageTimeoutMs = options.pageTimeoutMs ?? DEFAULTS.pageTimeoutS * 1000;
  const loopbackOnly = isLoopback(host);
  const token = options.token;
  const cwd = options.cwd ?? process.cwd();
  const note = options.onNote ?? (() => {});
  const started = performance.now();

  for (const plugin of options.plugins ?? []) await loadPlugin(plugin, cwd);
  const assets = await loadAssets(options.webDir ?? WEB_DIR);
  const openapi = JSON.stringify(await buildOpenApi({ tokenRequired: !!token, maxUploadBytes, maxPages }));

  const queue = new JobQueue(concurrency, options.queue ?? DEFAULTS.queue);
  const pool = new EnginePool(options.engineOptions ?? {}, concurrency);
  const defaultEngine = await pool.start(options.engine ?? "auto", concurrency, note);
  const info = defaultEngine.info;
  const engineList = await describeEngines();

  const jobs = new Set<Job>();
  let draining = false;
  const pagesOf = new WeakMap<object, number>();

  // requestTimeout bounds how long a client may take to send its request (slow uploads, slowloris).
  const app = Fastify({ logger: false, return503OnClosing: false, forceCloseConnections: "idle", bodyLimit: maxUploadBytes, requestTimeout: 300_000 });
  app.removeAllContentTypeParsers();
  // Raw uploads are read from the request stream by the route itself.
  app.addContentTypeParser("*", (_request, _payload, done) => done(null));
  await app.register(fastifyMultipart, { limits: { fileSize: maxUploadBytes } });

  app.addHook("onRequest", async (request, reply) => {
    const t0 = performance.now();
    if (options.log) {
      const log = options.log;
      reply.raw.once("close", () => {
        const res = reply.raw;
        const status = res.writableFinished ? String(res.statusCode) : `${res.headersSent ? res.statusCode : "-"} (client gone)`;
        const pages = pagesOf.get(request.raw);
        log(`${new Date().toISOString()} ${request.method} ${request.url.split("?")[0].slice(0, 200)} ${status}${pages !== undefined ? ` ${pages} page${pages === 1 ? "" : "s"}` : ""} ${Math.round(performance.now() - t0)} ms`);
      });
    }
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    const refused = checkOrigin(request.headers as Record<string, string | undefined>, loopbackOnly);
    if (refused) throw refused;
    // Everything but the page's own files needs the token: the page asks for it and sends it.
    if (token && !assets.has(request.url.split("?")[0])) {
      const header = request.headers.authorization;
      if (!checkBearer(header, token)) throw unauthorized(!!header);
    }
  });

  app.addHook("onSend", async (_request, reply) => {
    if (draining) reply.header("connection", "close");
  });

  app.setErrorHandler((error, request, reply) => sendError(reply, toRequestError(error, request)));
  app.setNotFoundHandler((request, reply) => sendError(reply, new RequestError(404, "not_found", `no route ${request.method} ${request.url.split("?")[0].slice(0, 100)}`)));

  for (const [route, asset] of assets) {
    app.get(route, async (request, reply) => {
      reply.header("content-type", asset.type).header("etag", asset.etag).header("cache-control", "no-cache");
      if (route === "/") reply.header("content-security-policy", CONTENT_SECURITY_POLICY).header("x-frame-options", "DENY");
      if (request.headers["if-none-match"] === asset.etag) return reply.code(304).send();
      return reply.send(asset.body);
    });
  }

  app.get("/v1/openapi.json", async (_request, reply) => reply.header("content-type", "application/json; charset=utf-8").send(openapi));

  app.get("/v1/templates", async (_request, reply) => {
    const { listPrompts } = await import("../prompts/index.js");
    const templates = (await listPrompts()).map(({ path: _path, ...rest }) => rest);
    return reply.header("cache-control", "no-store").send({ templates });
  });

  app.get("/v1/health", async (_request, reply) => reply.code(draining ? 503 : 200).header("cache-control", "no-store").send(health()));

  app.post("/v1/ocr", async (request, reply) => {
    if (draining) throw shuttingDown();
    let ticket: Ticket;
    try {
      ticket = queue.enter();
    } catch (err) {
      if (err instanceof QueueFullError) {
        throw new RequestError(503, "busy", `the server is busy (${concurrency} running, ${queue.queue} waiting): try again in ${err.retryAfterS} s`, { "retry-after": String(err.retryAfterS) });
      }
      throw err;
    }
    const job: Job = { controller: new AbortController(), ticket, started: false };
    jobs.add(job);
    const onClose = () => {
      if (!reply.raw.writableFinished) job.controller.abort(new RequestError(499, "client_gone", "the client went away"));
    };
    reply.raw.once("close", onClose);

    let upload: Upload | undefined;
    let lease: Lease | undefined;
    let iterator: AsyncIterator<PageRecord> | undefined;
    let finished = false;
    const finish = async () => {
      if (finished) return;
      finished = true;
      reply.raw.off("close", onClose);
      // Ends the scan (closing the document) if it is not over yet.
      await iterator?.return?.(undefined);
      lease?.release();
      ticket.done();
      jobs.delete(job);
      await upload?.discard();
    };
    let streaming = false;
    try {
      const raw: RawOptions = new Map();
      for (const [name, value] of Object.entries(request.query as Record<string, unknown>)) addRaw(raw, name, value);
      upload = await receiveUpload(request, raw, { maxBytes: maxUploadBytes, tmpDir: options.tmpDir });
      const opts = parseOptions(raw);
      const source = displayName(opts.filename ?? upload.clientName);
      const engineName = pool.resolveName(opts.engine);
      const factory = await pool.factory(engineName);
      const prompt = await preparePrompt(opts, upload, factory);
      if (draining) throw shuttingDown();

      await ticket.start(job.controller.signal);
      job.started = true;
      lease = await pool.acquire(engineName, job.controller.signal);

      let tooMany: { selected: number; total: number } | undefined;
      const records = scan([upload.file], {
        engine: lease.engine,
        cwd: upload.dir,
        prompt: prompt.ref,
        vars: opts.vars,
        langHint: opts.lang,
        languages: { names: opts.langNames },
        dpi: opts.dpi ?? options.dpi,
        pdfText: opts.pdfText,
        pages: opts.pages,
        pageTimeoutMs,
        signal: job.controller.signal,
        onEvent: (event) => {
          if (event.type !== "source-start") return;
          const selected = selectedPages(opts.pages, event.pages).length;
          if (selected > maxPages) {
            tooMany = { selected, total: event.pages };
            job.controller.abort(new Error("too many pages"));
          }
        },
      });
      const scanning = records[Symbol.asyncIterator]();
      iterator = scanning;
      let pages = 0;
      const upload_ = upload;
      const next = async (): Promise<PageRecord | undefined> => {
        const step = await scanning.next();
        if (step.done) return undefined;
        if (step.value.page > 0) pagesOf.set(request.raw, ++pages);
        return forClient(step.value, upload_, source);
      };

      const first = await next();
      if (tooMany) {
        throw new RequestError(
          422,
          "too_many_pages",
          `${source} has ${tooMany.total} pages${tooMany.selected !== tooMany.total ? ` (${tooMany.selected} selected)` : ""}; this server reads at most ${maxPages} per request (--max-pages): choose some with 'pages', e.g. pages=1-${maxPages}`,
        );
      }
      if (job.controller.signal.aborted) throw job.controller.signal.reason;
      if (!first) throw new Error("the pipeline produced no record");
      if (first.page === 0 && first.error) throw new RequestError(422, first.error.code, `${source}: ${first.error.message}`);

      const format = opts.format ?? (acceptsNdjson(request.headers.accept) ? "jsonl" : "json");
      reply.header("cache-control", "no-store");
      if (format === "jsonl") {
        streaming = true;
        reply.header("content-type", "application/x-ndjson; charset=utf-8").header("x-accel-buffering", "no");
        async function* lines(): AsyncGenerator<string> {
          try {
            let record: PageRecord | undefined = first;
            while (record) {
              yield `${JSON.stringify(record)}\n`;
              record = await next();
            }
          } finally {
            await finish();
          }
        }
        return reply.send(Readable.from(lines(), { objectMode: false }));
      }

      const all: PageRecord[] = [first];
      for (let record = await next(); record; record = await next()) all.push(record);
      if (job.controller.signal.aborted) throw job.controller.signal.reason;
      if (format === "json") return reply.header("content-type", "application/json; charset=utf-8").send(JSON.stringify(toDocument(all)));
      const groupBy = opts.groupBy ? (opts.groupBy === "language" ? "language" : undefined) : prompt.groupBy;
      const formatter = createFormatter(format, { multiple: false, groupBy, langNames: opts.langNames });
      const body = all.map((r) => formatter.record(r)).join("") + formatter.end();
      return reply.header("content-type", `${format === "markdown" ? "text/markdown" : "text/plain"}; charset=utf-8`).send(body);
    } catch (err) {
      // A request still queued when the server began shutting down hears so.
      if (draining && !job.started) throw shuttingDown();
      throw err;
    } finally {
      if (!streaming) await finish();
    }
  });

  // Requests in progress per connection: a draining server closes the connections with none
  // (kept alive, or opened and never used) and leaves the others to finish.
  const active = new Map<Socket, number>();
  app.server.on("connection", (socket: Socket) => {
    active.set(socket, 0);
    socket.once("close", () => active.delete(socket));
  });
  app.server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    active.set(socket, (active.get(socket) ?? 0) + 1);
    res.once("close", () => {
      if (active.has(socket)) active.set(socket, Math.max(0, (active.get(socket) ?? 1) - 1));
    });
  });
  const closeUnused = () => {
    for (const [socket, n] of active) if (n === 0) socket.destroy();
  };
  try {
    await app.listen({ host, port: options.port ?? DEFAULTS.port });
  } catch (err) {
    await app.close().catch(() => {});
    await pool.close();
    throw err;
  }
  const address = app.server.address() as AddressInfo;
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const shownHost = host === "0.0.0.0" || host === "::" ? (host === "::" ? "[::1]" : "127.0.0.1") : urlHost;

  let closing: Promise<void> | undefined;
  const closeAll = async () => {
    // Keep-alive connections would hold the close up until they time out: each one is closed as
    // soon as it is idle (its response sent).
    closeUnused();
    const sweep = setInterval(closeUnused, 100);
    try {
      await app.close();
    } finally {
      clearInterval(sweep);
    }
    await pool.close();
  };

  function health(): HealthReport {
    const loaded = new Map(pool.loaded().map((k) => [k.name, k.instances]));
    return {
      status: draining ? "draining" : "ok",
      engine: info.engine,
      model: info.model,
      ...(info.revision ? { revision: info.revision } : {}),
      ...(info.dtype ? { dtype: info.dtype } : {}),
      ...(info.device ? { device: info.device } : {}),
      queue: queue.stats(),
      engines: engineList.map((e) => ({ ...e, loaded: loaded.get(e.name) ?? 0 })),
      limits: { maxUploadBytes, maxPages },
      version: VERSION,
      uptimeS: Math.round((performance.now() - started) / 100) / 10,
    };
  }

  /** Engines a request may name: the server's, and the others that can run here. */
  async function describeEngines(): Promise<Array<{ name: string; description: string; generative: boolean }>> {
    const out: Array<{ name: string; description: string; generative: boolean }> = [];
    for (const name of engineNames()) {
      const factory = await getEngineFactory(name).catch(() => undefined);
      if (!factory) continue;
      const ok = name === pool.defaultName || (await factory.available(options.engineOptions ?? {}).then((a) => a.ok, () => false));
      if (ok) out.push({ name, description: factory.description, generative: !!factory.generative });
    }
    if (!out.some((e) => e.name === info.engine)) out.unshift({ name: info.engine, description: info.model, generative: false });
    return out;
  }

  return {
    url: `http://${shownHost}:${address.port}/`,
    host: address.address,
    port: address.port,
    info,
    health,
    shutdown() {
      if (!closing) {
        draining = true;
        for (const job of jobs) if (!job.started) job.controller.abort(shuttingDown());
        closing = closeAll();
      }
      return closing;
    },
    close() {
      draining = true;
      for (const job of jobs) job.controller.abort(shuttingDown());
      closing ??= closeAll();
      return closing;
    },
  };
}

/** The record as the client sees it: its own file name as the source, no trace of the server's temporary path. */
function forClient(record: PageRecord, upload: Upload, source: string): PageRecord {
  const scrub = (text: string) => text.split(path.join(upload.dir, upload.file)).join(source).split(upload.dir).join(".").split(upload.file).join(source);
  const out: PageRecord = { ...record, source };
  if (record.error) out.error = { ...record.error, message: scrub(record.error.message) };
  if (record.warnings.length) out.warnings = record.warnings.map(scrub);
  return out;
}

interface PreparedPrompt {
  /** What `scan()` gets: a template name, or the path of the request's own instruction written into its private directory. */
  ref?: string;
  groupBy?: "language";
}

/**
 * The template the request names, checked against the engine the way `scan()` checks it for
 * engines it loads itself (a loaded engine skips that check there); or the request's own
 * instruction as a template file in its private directory.
 */
async function preparePrompt(opts: RequestOptions, upload: Upload, factory: EngineFactory | undefined): Promise<PreparedPrompt> {
  if (opts.promptText !== undefined) {
    const file = path.join(upload.dir, "prompt.md");
    await writeFile(file, `---\nname: custom\ndescription: the instruction sent with the request\noutput: text\n---\n${opts.promptText}\n`, { mode: 0o600, flag: "wx" });
    return { ref: file };
  }
  if (opts.prompt === undefined) return {};
  const { findTemplate } = await import("../prompts/index.js");
  const template = await findTemplate(opts.prompt);
  if (factory && !factory.generative && template.engines.length && !template.engines.includes(factory.name)) {
    const what = template.output === "json" ? "extracts fields as JSON" : `writes ${template.output}`;
    throw badRequest(`prompt '${template.name}' ${what} and needs a vision-language engine (${template.engines.join(", ")}); ${factory.name} only reads the text`);
  }
  return { ref: template.name, groupBy: template.groupBy };
}

function acceptsNdjson(accept: string | undefined): boolean {
  return !!accept && /application\/(x-)?ndjson|application\/jsonl/i.test(accept);
}

function toRequestError(error: unknown, request: FastifyRequest): RequestError {
  if (error instanceof RequestError) return error;
  if (error instanceof UsageError) {
    return error.exitCode === ExitCode.ModelMissing
      ? new RequestError(422, "engine_unavailable", error.message)
      : new RequestError(400, "bad_request", error.message);
  }
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    const message = error instanceof Error ? error.message : String(error);
    return new RequestError(status, status === 413 ? "too_large" : "bad_request", status === 415 ? `unsupported Content-Type: ${message}` : message);
  }
  process.stderr.write(`qwen-ocr: internal error in ${request.method} ${request.url.split("?")[0]}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return new RequestError(500, "internal", "internal error (see the server's log)");
}

function sendError(reply: FastifyReply, error: RequestError): FastifyReply {
  if (reply.sent) return reply;
  for (const [k, v] of Object.entries(error.headers)) reply.header(k, v);
  return reply
    .code(error.status === 499 ? 400 : error.status)
    .header("content-type", "application/json; charset=utf-8")
    .header("cache-control", "no-store")
    .send(JSON.stringify({ error: { code: error.code, message: error.message } }));
}

export { formatBytes };
