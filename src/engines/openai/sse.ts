/**
 * Server-sent events, as OpenAI-compatible servers stream chat completions: `data: {json}` lines,
 * events separated by blank lines, `data: [DONE]` at the end. Only the `data` field matters here;
 * comments (`: ping`), `event:`, `id:` and `retry:` lines are skipped.
 */

/** Incremental parser: feed decoded text in any chunking, get each complete event's data. */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  /** The last chunk ended with `\r`: a following `\n` belongs to the same line break. */
  private pendingCr = false;

  push(chunk: string): string[] {
    let text = chunk;
    if (this.pendingCr && text.startsWith("\n")) text = text.slice(1);
    this.pendingCr = text.endsWith("\r");
    this.buffer += text;
    const events: string[] = [];
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? "";
    for (const line of lines) this.line(line, events);
    return events;
  }

  /** The end of the stream: an event without its closing blank line still counts. */
  end(): string[] {
    const events: string[] = [];
    if (this.buffer) this.line(this.buffer, events);
    this.buffer = "";
    this.line("", events);
    return events;
  }

  private line(line: string, events: string[]): void {
    if (line === "") {
      if (this.data.length) events.push(this.data.join("\n"));
      this.data = [];
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field !== "data") return;
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    this.data.push(value);
  }
}

/** The `data` of each event of a response body; `onChunk` is called for every chunk received. */
export async function* sseEvents(body: ReadableStream<Uint8Array>, onChunk?: () => void): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder("utf-8");
  const parser = new SseParser();
  let finished = false;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      onChunk?.();
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    finished = true;
    yield* parser.push(decoder.decode());
    yield* parser.end();
  } finally {
    // Leaving early (a loop, an abort): let go of the connection.
    if (!finished) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
