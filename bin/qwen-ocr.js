#!/usr/bin/env node
import { main } from "../dist/cli/program.js";
import { processIO } from "../dist/cli/io.js";

main(process.argv.slice(2), processIO()).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`qwen-ocr: internal error: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 70; // ExitCode.Internal
  },
);
