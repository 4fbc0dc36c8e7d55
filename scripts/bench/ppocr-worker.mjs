/**
 * Bench worker: loads one engine of ours, OCRs the given files through the library's scan(), and
 * prints one JSON object with the load time and per-page timings. Run in its own process so its
 * peak RSS is its own. Plain JavaScript on plain node, as users run the CLI: under the tsx loader
 * every dynamic import in scan() goes through its hooks, which added ~90 ms to each receipt.
 */
// The built library (dist/, what users run), not the sources through tsx, whose helpers change timings.
import { getEngineFactory, scan } from "../../dist/index.js";

const [engineName, ...files] = process.argv.slice(2);
const started = performance.now();
const engine = await (await getEngineFactory(engineName)).load({});
const loadMs = performance.now() - started;
/** @type {Array<{ file: string; wallMs: number; timings: Record<string, number> | undefined }>} */
const pages = [];
for (const file of files) {
  const t0 = performance.now();
  for await (const r of scan([file], { engine })) {
    if (r.error) throw new Error(`${file}: ${r.error.message}`);
    pages.push({ file, wallMs: performance.now() - t0, timings: r.timings });
  }
}
await engine.close();
process.stdout.write(JSON.stringify({ loadMs, pages }));
