export { writeFileAtomic } from "./atomic-write.ts";
export { reportError, withOneLineErrors } from "./command-errors.ts";
export { endOnBrokenPipe, runCommandLine } from "./command-line.ts";
export type { CommandLine } from "./command-line.ts";
