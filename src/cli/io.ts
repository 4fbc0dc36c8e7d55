import type { Readable, Writable } from "node:stream";

/** What the CLI touches of the outside world, so tests can run it in-process. */
export interface CliIO {
  stdout: Writable;
  stderr: Writable & { isTTY?: boolean; columns?: number };
  stdin: Readable;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Install SIGINT handling (the real process only). */
  handleSignals?: boolean;
}

export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    cwd: process.cwd(),
    env: process.env,
    handleSignals: true,
  };
}

/** Messages for the user on stderr. Errors always print; notes are silenced by --quiet. */
export class Reporter {
  constructor(private readonly stderr: Writable, private readonly quiet: boolean) {}

  error(message: string): void {
    this.stderr.write(`qwen-ocr: ${message}\n`);
  }

  note(message: string): void {
    if (!this.quiet) this.stderr.write(`qwen-ocr: ${message}\n`);
  }
}
