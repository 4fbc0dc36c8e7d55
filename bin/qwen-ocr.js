#!/usr/bin/env node
import { main } from "../dist/cli/program.js";
import { processIO } from "../dist/cli/io.js";

// The reader went away (`| head`): stop at once and quietly, with the status a process killed by
// SIGPIPE has (Node ignores the signal itself), rather than OCR the rest into a closed pipe.
process.stdout.on("error", (err) => {
  if (err && err.code === "EPIPE") process.exit(141); // ExitCode.BrokenPipe
  throw err;
});

main(process.argv.slice(2), processIO()).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`qwen-ocr: internal error: ${err && err.stack ? err.stack : err}\n`);
    process.exitCode = 70; // ExitCode.Internal
  },
);
