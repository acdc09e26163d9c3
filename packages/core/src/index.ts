export { isSelmixError, SelmixError } from "./errors.ts";
export type { SelmixErrorCode } from "./errors.ts";
export { createRng, rngFromState, shuffleInPlace } from "./rng.ts";
export type { Rng } from "./rng.ts";
