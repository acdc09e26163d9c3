export { writeFileAtomic } from "./atomic-write.ts";
export { withOneLineErrors } from "./command-errors.ts";
