/**
 * The service's OpenAPI 3.1 description. The record schemas are the published
 * `schema/page.schema.json`, so the API and the CLI share one definition of a record.
 */
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { VERSION } from "../version.js";

const PAGE_SCHEMA = fileURLToPath(new URL("../../schema/page.schema.json", import.meta.url));

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** `#/definitions/X` (JSON Schema draft-07) → `#/components/schemas/X` (OpenAPI). */
function rewriteRefs(value: Json): Json {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === "object") {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = k === "$ref" && typeof v === "string" ? v.replace(/^#\/definitions\//, "#/components/schemas/") : rewriteRefs(v);
    }
    return out;
  }
  return value;
}

const errorResponse = (description: string, extraHeaders: Record<string, Json> = {}): Json => ({
  description,
  ...(Object.keys(extraHeaders).length ? { headers: extraHeaders } : {}),
  content: { "application/json": { schema: { $ref: "#/components/schemas/ApiError" } } },
});

const stringParam = (name: string, description: string, extra: Record<string, Json> = {}): Json => ({
  name,
  in: "query",
  required: false,
  description,
  schema: { type: "string", ...extra },
});

const OPTION_PROPERTIES: Record<string, Json> = {
  engine: { type: "string", description: "Engine name (`ppocr`, `qwen`, …); `auto` or absent: the server's engine." },
  prompt: { type: "string", description: "A built-in prompt template by name (GET /v1/templates); `template` is the same." },
  template: { type: "string", description: "Alias of `prompt`." },
  prompt_text: { type: "string", maxLength: 8000, description: "A free-form instruction for vision-language engines, instead of a template." },
  var: { type: "array", items: { type: "string" }, description: "`key=value`: fills a template placeholder (repeatable)." },
  pages: { type: "string", description: "Pages to read, e.g. `1-3,7,10-` (1-based)." },
  format: { type: "string", enum: ["json", "jsonl", "text", "markdown"], description: "Response format; `jsonl` (or `Accept: application/x-ndjson`) streams one record per line." },
  group_by: { type: "string", enum: ["language", "none"], description: "Text and Markdown: one section per language (default: the template's choice)." },
  lang: { type: "string", description: "The pages' languages, e.g. `ja,en`, for templates that mention them." },
  lang_names: { type: "string", enum: ["native", "english"], description: "Language group names: `中文 (Chinese)` (native) or `Chinese`." },
  dpi: { type: "integer", minimum: 36, maximum: 600, description: "PDF rasterization resolution (default: the server's, 200)." },
  pdf_text: {
    type: "string",
    enum: ["auto", "ocr", "text"],
    description: "PDF pages' own text: `auto` (default) reads a page's text layer when it is real text and OCRs the others; `ocr` OCRs every page; `text` never OCRs.",
  },
  filename: { type: "string", description: "Raw bodies: the name shown as the records' `source` (else Content-Disposition's, else `upload`)." },
};

export interface OpenApiSettings {
  tokenRequired: boolean;
  maxUploadBytes: number;
  maxPages: number;
}

export async function buildOpenApi(settings: OpenApiSettings): Promise<Record<string, Json>> {
  const pageSchema = JSON.parse(await readFile(PAGE_SCHEMA, "utf8")) as { definitions: Record<string, Json> };
  const recordSchemas = rewriteRefs(pageSchema.definitions) as Record<string, Json>;
  const parameters: Json[] = Object.entries(OPTION_PROPERTIES).map(([name, schema]) => {
    const s = schema as { [key: string]: Json };
    const { description, ...rest } = s;
    return name === "var"
      ? { name, in: "query", required: false, description, schema: rest, style: "form", explode: true }
      : stringParam(name, String(description), Object.fromEntries(Object.entries(rest).filter(([k]) => k !== "type")));
  });

  return {
    openapi: "3.1.0",
    info: {
      title: "qwen-ocr",
      version: VERSION,
      description:
        "Private, local OCR of images and PDFs: the `qwen-ocr scan` pipeline as a service. " +
        `Uploads up to ${Math.round(settings.maxUploadBytes / 1024 / 1024)} MB and ${settings.maxPages} pages per request. ` +
        "Options go in query parameters or multipart fields (fields win).",
    },
    servers: [{ url: "/" }],
    ...(settings.tokenRequired ? { security: [{ bearer: [] }] } : {}),
    paths: {
      "/v1/ocr": {
        post: {
          operationId: "ocr",
          summary: "OCR one image or PDF",
          description:
            "Send the document as the multipart field `file`, or as the raw body with its Content-Type. " +
            "Answers one DocumentRecord (JSON), or streams one PageRecord per line as pages finish (`Accept: application/x-ndjson` or `format=jsonl`), " +
            "or the CLI's text / Markdown output (`format=text|markdown`). A page that fails is a record with `error`; " +
            "a document that cannot be read at all is a 422.",
          parameters,
          requestBody: {
            required: true,
            content: {
              "multipart/form-data": {
                schema: { type: "object", required: ["file"], properties: { file: { type: "string", contentMediaType: "application/octet-stream" }, ...OPTION_PROPERTIES } },
              },
              "application/pdf": { schema: { type: "string", contentMediaType: "application/pdf" } },
              "image/*": { schema: { type: "string", contentMediaType: "image/*" } },
              "application/octet-stream": { schema: { type: "string", contentMediaType: "application/octet-stream" } },
            },
          },
          responses: {
            "200": {
              description: "The document's records.",
              content: {
                "application/json": { schema: { $ref: "#/components/schemas/DocumentRecord" } },
                "application/x-ndjson": { schema: { $ref: "#/components/schemas/PageRecord" }, description: "One PageRecord per line, in page order, each sent when its page is done." },
                "text/plain": { schema: { type: "string" } },
                "text/markdown": { schema: { type: "string" } },
              },
            },
            "400": errorResponse("A bad option, a malformed multipart body, no file, or a template the engine cannot follow."),
            "401": errorResponse("The server needs a token (`Authorization: Bearer <token>`), or the token is wrong."),
            "403": errorResponse("A cross-origin browser request, or a Host this server does not answer to."),
            "413": errorResponse("The upload is larger than the server's limit (--max-upload-mb)."),
            "422": errorResponse("The document cannot be read (`unsupported`, `corrupt`, `empty`, `encrypted`, …), has more pages than the limit (`too_many_pages`), or the engine cannot run here (`engine_unavailable`)."),
            "503": errorResponse("The queue is full (`busy`) or the server is shutting down (`shutting_down`).", {
              "Retry-After": { description: "Seconds to wait before trying again.", schema: { type: "integer" } },
            }),
          },
        },
      },
      "/v1/templates": {
        get: {
          operationId: "templates",
          summary: "The prompt templates",
          responses: {
            "200": { description: "Templates by name.", content: { "application/json": { schema: { $ref: "#/components/schemas/Templates" } } } },
            "401": errorResponse("Token missing or wrong."),
          },
        },
      },
      "/v1/health": {
        get: {
          operationId: "health",
          summary: "The engine, model and device, and the queue",
          responses: {
            "200": { description: "Serving.", content: { "application/json": { schema: { $ref: "#/components/schemas/Health" } } } },
            "401": errorResponse("Token missing or wrong."),
            "503": { description: "Shutting down (the same body, status `draining`).", content: { "application/json": { schema: { $ref: "#/components/schemas/Health" } } } },
          },
        },
      },
      "/v1/openapi.json": {
        get: { operationId: "openapi", summary: "This document", responses: { "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } } } },
      },
    },
    components: {
      ...(settings.tokenRequired ? { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } } : {}),
      schemas: {
        ...recordSchemas,
        ApiError: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["code", "message"],
              properties: {
                code: {
                  type: "string",
                  description:
                    "bad_request, unauthorized, forbidden, not_found, too_large, too_many_pages, engine_unavailable, busy, shutting_down, internal, " +
                    "or a record's error code (unsupported, corrupt, empty, encrypted, …) for a document that cannot be read",
                },
                message: { type: "string" },
              },
            },
          },
        },
        Templates: {
          type: "object",
          required: ["templates"],
          properties: {
            templates: {
              type: "array",
              items: {
                type: "object",
                required: ["name", "description", "output", "engines", "variables"],
                properties: {
                  name: { type: "string" },
                  description: { type: "string" },
                  output: { type: "string", enum: ["text", "markdown", "json"] },
                  engines: { type: "array", items: { type: "string" }, description: "Engines the template suits; empty: any." },
                  groupBy: { type: "string", enum: ["language"] },
                  variables: { type: "object", additionalProperties: { type: ["string", "null"] }, description: "Placeholders and their defaults (null: must be given with `var`)." },
                },
              },
            },
          },
        },
        Health: {
          type: "object",
          required: ["status", "engine", "model", "queue", "engines", "limits", "version"],
          properties: {
            status: { type: "string", enum: ["ok", "draining"] },
            engine: { type: "string", description: "The server's engine (what `auto` means here)." },
            model: { type: "string" },
            revision: { type: "string" },
            dtype: { type: "string" },
            device: { type: "string" },
            queue: {
              type: "object",
              required: ["running", "waiting", "concurrency", "queue"],
              properties: { running: { type: "integer" }, waiting: { type: "integer" }, concurrency: { type: "integer" }, queue: { type: "integer" } },
            },
            engines: {
              type: "array",
              description: "Engines a request may name; `loaded` counts warm instances.",
              items: {
                type: "object",
                required: ["name", "description", "generative", "loaded"],
                properties: { name: { type: "string" }, description: { type: "string" }, generative: { type: "boolean" }, loaded: { type: "integer" } },
              },
            },
            limits: {
              type: "object",
              required: ["maxUploadBytes", "maxPages"],
              properties: { maxUploadBytes: { type: "integer" }, maxPages: { type: "integer" } },
            },
            version: { type: "string" },
            uptimeS: { type: "number" },
          },
        },
      },
    },
  };
}
