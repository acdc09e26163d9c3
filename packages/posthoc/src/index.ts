export { fitPosthoc } from "./fit.ts";
export type { FitSummary, LogitOffsets, PosthocOptions } from "./fit.ts";
export { adjustedPredictions, logScores, PROBABILITY_FLOOR } from "./scores.ts";
export type { ScoredSet, Scores, ScoreSpace } from "./scores.ts";
export { ADJUSTMENT_FORMAT, adjustmentJson, parseAdjustment } from "./adjustment-file.ts";
