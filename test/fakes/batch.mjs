// Fake engines for the batch tests (cache, resume, signals, hostile inputs). Plain JavaScript so
// the built CLI can load them with `--plugin test/fakes/batch.mjs`. They take their settings from
// the environment the CLI passes to engines (`options.env`), so in-process runs stay independent.
//
//   QWEN_OCR_TEST_LOADS   a file that gets one line per engine load
//   QWEN_OCR_TEST_CALLS   a file that gets one line per page read: "<source>#<page>"
//   QWEN_OCR_TEST_DELAY   milliseconds each page takes
//   QWEN_OCR_TEST_VANISH  files to delete while the first page is read; "chmod:FILE" makes one
//                         unreadable (not for root), "dir:FILE" replaces one with a directory
import { appendFileSync, chmodSync, mkdirSync, rmSync } from "node:fs";

/** @typedef {import('../../src/types.js').EngineFactory} EngineFactory */

function mean(page) {
  const { data } = page.image;
  let sum = 0;
  for (let i = 0; i < data.length; i += 101) sum += data[i];
  return Math.round(sum / Math.ceil(data.length / 101));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @param {string} name
 * @param {boolean} vanish
 * @returns {EngineFactory}
 */
function counted(name, vanish) {
  return {
    name,
    description: `test engine: ${name}, counts its loads and pages`,
    available: async () => ({ ok: true }),
    load: async (options) => {
      const env = /** @type {NodeJS.ProcessEnv} */ (options.env ?? {});
      if (env.QWEN_OCR_TEST_LOADS) appendFileSync(env.QWEN_OCR_TEST_LOADS, `${name}\n`);
      const delay = Number(env.QWEN_OCR_TEST_DELAY ?? 0);
      let first = true;
      return {
        info: { engine: name, model: `fake-${name}`, revision: "r1" },
        loadMs: 0,
        recognize: async (page) => {
          if (env.QWEN_OCR_TEST_CALLS) appendFileSync(env.QWEN_OCR_TEST_CALLS, `${page.source}#${page.page}\n`);
          if (vanish && first && env.QWEN_OCR_TEST_VANISH) {
            for (const spec of env.QWEN_OCR_TEST_VANISH.split(",")) {
              if (spec.startsWith("chmod:")) chmodSync(spec.slice(6), 0o000);
              else if (spec.startsWith("dir:")) {
                rmSync(spec.slice(4), { force: true });
                mkdirSync(spec.slice(4));
              } else rmSync(spec, { force: true });
            }
          }
          first = false;
          if (delay > 0) await sleep(delay);
          const text = `${page.source} page ${page.page}/${page.pages} ${page.image.width}x${page.image.height} mean ${mean(page)}`;
          return { text, lines: [{ text, bbox: [0, 0, 10, 10], confidence: 0.9 }], finish: "stop", timings: { fakeMs: delay }, warnings: [] };
        },
        close: async () => {},
      };
    },
  };
}

export const count = counted("count", false);
export const vanish = counted("vanish", true);

export const engines = [count, vanish];
export default engines;
