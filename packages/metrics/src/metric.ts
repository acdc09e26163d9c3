import { type ConfusionMatrix, coverages, recalls } from "./confusion.ts";
import { minCoverage, minCoverageGradient, penalizedByCoverage, penalizedByCoverageGradient } from "./coverage-metrics.ts";
import type { HeadTailSplit } from "./head-tail.ts";
import { accuracy, accuracyGradient, macroF1, macroF1Gradient } from "./other-metrics.ts";
import {
  gMeanRecall,
  gMeanRecallGradient,
  hMeanRecall,
  hMeanRecallGradient,
  meanRecall,
  meanRecallGradient,
  minHeadTailRecall,
  minHeadTailRecallGradient,
  minRecall,
  minRecallGradient,
} from "./recall-metrics.ts";

/** A metric of a confusion matrix with its analytic gradient (row-major K×K, ∂value/∂C[i][j]). */
export interface Metric {
  /** The metric's name. */
  readonly name: string;
  /**
   * The metric at `cm`.
   *
   * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples (the recall- and F1-based metrics).
   */
  value(cm: ConfusionMatrix): number;
  /**
   * ∂value/∂C at `cm`, row-major [K, K].
   *
   * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples (the recall- and F1-based metrics).
   */
  gradient(cm: ConfusionMatrix): Float64Array;
}

/** Names of the built-in metrics. */
export type MetricName =
  | "accuracy"
  | "mean-recall"
  | "min-recall"
  | "h-mean"
  | "g-mean"
  | "min-head-tail-recall"
  | "min-coverage"
  | "mean-recall-min-coverage"
  | "h-mean-min-coverage"
  | "macro-f1";

/** Options shared by the metrics that need them. */
export interface MetricOptions {
  /** Head/tail split for `min-head-tail-recall`. @defaultValue `{ headFraction: 0.9 }` */
  readonly split?: HeadTailSplit;
  /** Coverage target alpha (constraint coverage_j >= alpha/K). @defaultValue 0.95 */
  readonly coverageAlpha?: number;
}

/**
 * A built-in {@link Metric} by name.
 *
 * @example
 * {@includeCode ./examples.test.ts#metric}
 */
export function metric(name: MetricName, options: MetricOptions = {}): Metric {
  const { split, coverageAlpha } = options;
  switch (name) {
    case "accuracy":
      return { name, value: accuracy, gradient: accuracyGradient };
    case "mean-recall":
      return { name, value: meanRecall, gradient: meanRecallGradient };
    case "min-recall":
      return { name, value: minRecall, gradient: minRecallGradient };
    case "h-mean":
      return { name, value: hMeanRecall, gradient: hMeanRecallGradient };
    case "g-mean":
      return { name, value: gMeanRecall, gradient: gMeanRecallGradient };
    case "min-head-tail-recall":
      return {
        name,
        value: (cm) => minHeadTailRecall(cm, split),
        gradient: (cm) => minHeadTailRecallGradient(cm, split),
      };
    case "min-coverage":
      return { name, value: minCoverage, gradient: minCoverageGradient };
    case "mean-recall-min-coverage":
      return {
        name,
        value: (cm) => penalizedByCoverage(meanRecall(cm), cm, coverageAlpha),
        gradient: (cm) => penalizedByCoverageGradient(meanRecall(cm), meanRecallGradient(cm), cm, coverageAlpha),
      };
    case "h-mean-min-coverage":
      return {
        name,
        value: (cm) => penalizedByCoverage(hMeanRecall(cm), cm, coverageAlpha),
        gradient: (cm) => penalizedByCoverageGradient(hMeanRecall(cm), hMeanRecallGradient(cm), cm, coverageAlpha),
      };
    case "macro-f1":
      return { name, value: macroF1, gradient: macroF1Gradient };
  }
}

/**
 * Every built-in metric name, in a stable order.
 *
 * @example
 * {@includeCode ./examples.test.ts#METRIC_NAMES}
 */
export const METRIC_NAMES: readonly MetricName[] = [
  "accuracy",
  "mean-recall",
  "min-recall",
  "h-mean",
  "g-mean",
  "min-head-tail-recall",
  "min-coverage",
  "mean-recall-min-coverage",
  "h-mean-min-coverage",
  "macro-f1",
];

/** The metrics a long-tail practitioner reads, in one object (what `selmix metrics --json` prints). */
export interface MetricReport {
  /** Fraction of correct predictions. */
  readonly accuracy: number;
  /** Mean per-class recall. */
  readonly meanRecall: number;
  /** Smallest per-class recall. */
  readonly minRecall: number;
  /** Harmonic mean of the per-class recalls. */
  readonly hMean: number;
  /** Geometric mean of the per-class recalls. */
  readonly gMean: number;
  /** The smaller of the head and tail mean recalls. */
  readonly minHeadTailRecall: number;
  /** Smallest per-class coverage (share of predictions). */
  readonly minCoverage: number;
  /** Recall of every class, `[K]`. */
  readonly recall: number[];
  /** Coverage of every class, `[K]`. */
  readonly coverage: number[];
}

/**
 * Evaluates every reported metric at once.
 *
 * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples.
 * @example
 * {@includeCode ./examples.test.ts#evaluateMetrics}
 */
export function evaluateMetrics(cm: ConfusionMatrix, split?: HeadTailSplit): MetricReport {
  return {
    accuracy: accuracy(cm),
    meanRecall: meanRecall(cm),
    minRecall: minRecall(cm),
    hMean: hMeanRecall(cm),
    gMean: gMeanRecall(cm),
    minHeadTailRecall: minHeadTailRecall(cm, split),
    minCoverage: minCoverage(cm),
    recall: Array.from(recalls(cm)),
    coverage: Array.from(coverages(cm)),
  };
}
