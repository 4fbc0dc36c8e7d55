import type { CliIO } from "./io.js";
import type { ModelsFlags } from "./program.js";
import { UsageError } from "../errors.js";

const todo = async (_flags: ModelsFlags, _io: CliIO): Promise<number> => {
  throw new UsageError("not implemented yet");
};
export const runPull = todo;
export const runList = todo;
export const runPath = todo;
export const runRemove = todo;
