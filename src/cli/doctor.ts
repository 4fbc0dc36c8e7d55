import type { CliIO } from "./io.js";
import type { DoctorFlags } from "./program.js";
import { UsageError } from "../errors.js";

export async function runDoctor(_flags: DoctorFlags, _io: CliIO): Promise<number> {
  throw new UsageError("not implemented yet");
}
