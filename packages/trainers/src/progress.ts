import type { MetricReport } from "@selmix/metrics";

/** Metrics of a {@link MetricReport} that can select a checkpoint. */
export type SelectionMetric = "accuracy" | "mean-recall" | "min-recall" | "h-mean" | "g-mean" | "min-head-tail-recall" | "min-coverage";

/**
 * Every {@link SelectionMetric}, in a stable order.
 *
 * @example
 * {@includeCode ./examples.test.ts#SELECTION_METRICS}
 */
export const SELECTION_METRICS: readonly SelectionMetric[] = [
  "accuracy",
  "mean-recall",
  "min-recall",
  "h-mean",
  "g-mean",
  "min-head-tail-recall",
  "min-coverage",
];

/**
 * Reads one metric of a report by its kebab-case name.
 *
 * @example
 * {@includeCode ./examples.test.ts#reportMetric}
 */
export function reportMetric(report: MetricReport, name: SelectionMetric): number {
  switch (name) {
    case "accuracy":
      return report.accuracy;
    case "mean-recall":
      return report.meanRecall;
    case "min-recall":
      return report.minRecall;
    case "h-mean":
      return report.hMean;
    case "g-mean":
      return report.gMean;
    case "min-head-tail-recall":
      return report.minHeadTailRecall;
    case "min-coverage":
      return report.minCoverage;
  }
}

/** What trainers report while they run (for progress bars and logs). */
export type ProgressEvent =
  | {
      /** An optimizer step was done. */
      readonly kind: "step";
      /** Steps done. */
      readonly step: number;
      /** Steps of the run. */
      readonly total: number;
      /** Training loss of the step. */
      readonly loss: number;
      /** Learning rate of the step. */
      readonly lr: number;
    }
  | {
      /** A validation was done. */
      readonly kind: "eval";
      /** Steps done. */
      readonly step: number;
      /** Steps of the run. */
      readonly total: number;
      /** Validation metrics. */
      readonly metrics: MetricReport;
      /** Whether these are the best weights so far. */
      readonly best: boolean;
    }
  | {
      /** A SelMix refresh was done. */
      readonly kind: "refresh";
      /** Steps done. */
      readonly step: number;
      /** Steps of the run. */
      readonly total: number;
      /** Validation ψ. */
      readonly objective: number;
      /** exp(entropy) of the pair distribution. */
      readonly effectivePairs: number;
    }
  | {
      /** The run resumed from a checkpoint. */
      readonly kind: "resume";
      /** Steps already done. */
      readonly step: number;
      /** Steps of the run. */
      readonly total: number;
    };

/** Receives {@link ProgressEvent}s. */
export type ProgressListener = (event: ProgressEvent) => void;
