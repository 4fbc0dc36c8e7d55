/** Bench worker for the reference wrapper @gutenye/ocr-node: same files, same JSON shape, plain node like ours. */
import Ocr from "@gutenye/ocr-node";

const files = process.argv.slice(2);
const started = performance.now();
const ocr = await Ocr.create();
const loadMs = performance.now() - started;
/** @type {Array<{ file: string; wallMs: number }>} */
const pages = [];
for (const file of files) {
  const t0 = performance.now();
  await ocr.detect(file);
  pages.push({ file, wallMs: performance.now() - t0 });
}
process.stdout.write(JSON.stringify({ loadMs, pages }));
