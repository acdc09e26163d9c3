export {
  clip,
  columnSums,
  confusionFromPredictions,
  confusionMatrix,
  coverages,
  fromValues,
  normalize,
  recalls,
  rowSums,
  softConfusion,
  toRows,
  total,
} from "./confusion.ts";
export type { ConfusionMatrix } from "./confusion.ts";
export {
  coverageDeficits,
  DEFAULT_COVERAGE_ALPHA,
  gradientFromCoverageWeights,
  minCoverage,
  minCoverageGradient,
  penalizedByCoverage,
  penalizedByCoverageGradient,
} from "./coverage-metrics.ts";
export { DEFAULT_HEAD_FRACTION, headTailGroups } from "./head-tail.ts";
export type { HeadTailGroups, HeadTailSplit } from "./head-tail.ts";
export { evaluateMetrics, METRIC_NAMES, metric } from "./metric.ts";
export type { Metric, MetricName, MetricOptions, MetricReport } from "./metric.ts";
export { CONFUSION_CLIP } from "./objective.ts";
export type { ClassPrior, LinearizeContext, Linearization, Objective, ObjectiveState } from "./objective.ts";
export { coverageMultipliers, createObjective, isObjectiveName, OBJECTIVE_NAMES } from "./objectives.ts";
export type { ObjectiveName, ObjectiveOptions } from "./objectives.ts";
export { accuracy, accuracyGradient, macroF1, macroF1Gradient } from "./other-metrics.ts";
export { numericDerivative, pluginObjective } from "./plugin-objective.ts";
export type { PluginObjectiveOptions } from "./plugin-objective.ts";
export {
  argMin,
  gMeanRecall,
  gMeanRecallGradient,
  gradientFromRecallWeights,
  headTailRecall,
  hMeanRecall,
  hMeanRecallGradient,
  meanRecall,
  meanRecallGradient,
  minHeadTailRecall,
  minHeadTailRecallGradient,
  minRecall,
  minRecallGradient,
} from "./recall-metrics.ts";
