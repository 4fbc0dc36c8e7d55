// A small OpenAI-compatible chat-completions server for tests (node:http on 127.0.0.1, an
// ephemeral port). Each request is answered by the next scripted behaviour, or the default one;
// every request is recorded with its parsed body, headers and whether the client hung up early.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: ChatBody;
  /** The client closed the connection before the answer was complete. */
  abortedByClient: boolean;
  /** Content bytes written before the client went away (for streams). */
  chunksSent: number;
}

export interface ChatBody {
  model: string;
  messages: Array<{ role: string; content: Array<{ type: string; text?: string; image_url?: { url: string } }> }>;
  stream: boolean;
  stream_options?: { include_usage?: boolean };
  temperature: number;
  max_tokens: number;
  [key: string]: unknown;
}

export type Behaviour = (req: IncomingMessage, res: ServerResponse, seen: SeenRequest) => void | Promise<void>;

export interface FakeServer {
  url: string;
  port: number;
  requests: SeenRequest[];
  /** Answers the next requests, in order, before falling back to the default. */
  script(...behaviours: Behaviour[]): void;
  setDefault(behaviour: Behaviour): void;
  /** Requests being answered right now, and the most at once so far. */
  active: number;
  maxActive: number;
  close(): Promise<void>;
}

export async function startServer(defaultBehaviour: Behaviour = stream(["Hello", " world"])): Promise<FakeServer> {
  const queue: Behaviour[] = [];
  let fallback = defaultBehaviour;
  const requests: SeenRequest[] = [];
  const state = { active: 0, maxActive: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body: ChatBody;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ChatBody;
      } catch {
        res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "body is not JSON" } }));
        return;
      }
      const seen: SeenRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body, abortedByClient: false, chunksSent: 0 };
      requests.push(seen);
      state.active++;
      state.maxActive = Math.max(state.maxActive, state.active);
      res.on("close", () => {
        state.active--;
        if (!res.writableFinished) seen.abortedByClient = true;
      });
      const behaviour = queue.shift() ?? fallback;
      void Promise.resolve(behaviour(req, res, seen)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    script: (...behaviours) => queue.push(...behaviours),
    setDefault: (behaviour) => (fallback = behaviour),
    get active() {
      return state.active;
    },
    get maxActive() {
      return state.maxActive;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  } as FakeServer;
}

/** A port nothing listens on (connections are refused). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sse = (res: ServerResponse, payload: unknown) => res.write(`data: ${typeof payload === "string" ? payload : JSON.stringify(payload)}\n\n`);
const chunk = (content: string | undefined, finish: string | null = null) => ({
  id: "chatcmpl-test",
  object: "chat.completion.chunk",
  model: "served",
  choices: [{ index: 0, delta: content === undefined ? {} : { content }, finish_reason: finish }],
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Streams the pieces as SSE, then the finish reason, the usage (when asked for) and [DONE]. */
export function stream(pieces: string[], opts: { finish?: string; usage?: { prompt_tokens: number; completion_tokens: number }; delayMs?: number } = {}): Behaviour {
  return async (_req, res, seen) => {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    sse(res, { ...chunk(undefined), choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] });
    for (const piece of pieces) {
      if (opts.delayMs) await sleep(opts.delayMs);
      if (res.destroyed) return;
      sse(res, chunk(piece));
      seen.chunksSent++;
    }
    sse(res, chunk(undefined, opts.finish ?? "stop"));
    if (seen.body.stream_options?.include_usage) {
      sse(res, { id: "chatcmpl-test", object: "chat.completion.chunk", choices: [], usage: opts.usage ?? { prompt_tokens: 321, completion_tokens: pieces.length } });
    }
    sse(res, "[DONE]");
    res.end();
  };
}

/** Streams `piece` forever (every `delayMs`) until the client hangs up. */
export function endless(piece: string, delayMs = 2): Behaviour {
  return async (_req, res, seen) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    const deadline = Date.now() + 10_000;
    while (!res.destroyed && Date.now() < deadline) {
      sse(res, chunk(piece));
      seen.chunksSent++;
      await sleep(delayMs);
    }
    res.end();
  };
}

/** An error status with an OpenAI-style error body. */
export function status(code: number, headers: Record<string, string> = {}, message = `fake error ${code}`): Behaviour {
  return (_req, res) => {
    res.writeHead(code, { "content-type": "application/json", ...headers }).end(JSON.stringify({ error: { message, type: "test", code } }));
  };
}

/** Accepts the request and never answers (until the client gives up). */
export function hang(): Behaviour {
  return () => {};
}

/** Sends some text, then drops the connection mid-stream. */
export function breakOff(pieces: string[]): Behaviour {
  return async (_req, res, seen) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (const piece of pieces) {
      sse(res, chunk(piece));
      seen.chunksSent++;
    }
    await sleep(20);
    res.destroy();
  };
}
