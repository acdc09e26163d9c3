export { effectivePairs, samplingDistribution, topPairs } from "./distribution.ts";
export type { DistributionOptions, PairValue } from "./distribution.ts";
export { gainMatrix, gainMatrixStreaming } from "./gain-matrix.ts";
export type { GainInputs, GainOptions, GainResult } from "./gain-matrix.ts";
export { matmulTransposed, transpose } from "./linalg.ts";
export { classPrototypes } from "./prototypes.ts";
