import type { MetricReport } from "@selmix/metrics";

/** Metrics of a {@link MetricReport} that can select a checkpoint. */
export type SelectionMetric = "accuracy" | "mean-recall" | "min-recall" | "h-mean" | "g-mean" | "min-head-tail-recall" | "min-coverage";

/** Reads one metric of a report by its kebab-case name. */
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
  | { readonly kind: "step"; readonly step: number; readonly total: number; readonly loss: number; readonly lr: number }
  | { readonly kind: "eval"; readonly step: number; readonly total: number; readonly metrics: MetricReport; readonly best: boolean }
  | { readonly kind: "refresh"; readonly step: number; readonly total: number; readonly objective: number; readonly effectivePairs: number }
  | { readonly kind: "resume"; readonly step: number; readonly total: number };

/** Receives {@link ProgressEvent}s. */
export type ProgressListener = (event: ProgressEvent) => void;
