// Fake engines for testing the pipeline's error paths without a model (the OCRmyPDF way).
// Plain JavaScript so the built CLI can load it with `--plugin test/fakes/engines.mjs`.

/** @typedef {import('../../src/types.js').EngineFactory} EngineFactory */
/** @typedef {import('../../src/types.js').Page} Page */

/** Mean brightness of a page, so the fake's answer depends on the actual pixels. */
function meanBrightness(/** @type {Page} */ page) {
  const { data } = page.image;
  let sum = 0;
  for (let i = 0; i < data.length; i += 97) sum += data[i];
  return Math.round(sum / Math.ceil(data.length / 97));
}

/**
 * @param {string} name
 * @param {(page: Page, options: {signal?: AbortSignal}) => Promise<import('../../src/types.js').EngineResult>} recognize
 * @returns {EngineFactory}
 */
function fake(name, recognize) {
  return {
    name,
    description: `test engine: ${name}`,
    available: async () => ({ ok: true }),
    load: async () => ({
      info: { engine: name, model: `fake-${name}` },
      loadMs: 0,
      recognize: (page, options = {}) => recognize(page, options),
      close: async () => {},
    }),
  };
}

const result = (text) => ({
  text,
  lines: text ? text.split("\n").map((line, i) => ({ text: line, bbox: [0, i * 10, 100, i * 10 + 10], confidence: 1 })) : [],
  finish: "stop",
  timings: { fakeMs: 0 },
  warnings: [],
});

/** Describes the page it was given: proves the right pixels reached the engine. */
export const echo = fake("echo", async (page) =>
  result(`${page.source} page ${page.page}/${page.pages} ${page.image.width}x${page.image.height} mean ${meanBrightness(page)}`),
);

/** Throws on every page. */
export const crash = fake("crash", async () => {
  throw new Error("fake engine crashed");
});

/** Throws on even pages only: the odd pages of the same input must still come through. */
export const flaky = fake("flaky", async (page) => {
  if (page.page % 2 === 0) throw new Error(`fake engine failed on page ${page.page}`);
  return result(`page ${page.page}`);
});

/** Never answers until aborted: the page timeout must catch it. */
export const hang = fake(
  "hang",
  (_page, { signal }) =>
    new Promise((_, reject) => {
      signal?.addEventListener("abort", () => reject(signal.reason ?? new Error("aborted")), { once: true });
    }),
);

/** Finds no text at all. */
export const empty = fake("empty", async () => result(""));

/** Fails to load with an EPIPE of its own (a dead child process): a failure, not a closed stdout. */
export const pipe = {
  name: "pipe",
  description: "test engine: load fails with EPIPE",
  available: async () => ({ ok: true }),
  load: async () => {
    throw Object.assign(new Error("write EPIPE"), { code: "EPIPE", syscall: "write" });
  },
};

export const engines = [echo, crash, flaky, hang, empty, pipe];
export default engines;
