import type { ObjectiveName } from "@selmix/metrics";
import type { RowResult } from "./types.ts";

/** The metric columns of every table. */
export type ColumnKey = "meanRecall" | "minRecall" | "hMean" | "gMean" | "minHeadTailRecall" | "minCoverage";

/** Columns in table order, with their headers. */
export const COLUMNS: readonly { readonly key: ColumnKey; readonly header: string }[] = [
  { key: "meanRecall", header: "Mean rec." },
  { key: "minRecall", header: "Min rec." },
  { key: "hMean", header: "H-mean" },
  { key: "gMean", header: "G-mean" },
  { key: "minHeadTailRecall", header: "Min HT rec." },
  { key: "minCoverage", header: "Min cov." },
];

/** A test metric of a row, in percent. */
export function columnValue(r: RowResult, key: ColumnKey): number {
  return 100 * r.test[key];
}

/**
 * The column an objective is judged on. Mean recall with min coverage is judged on mean recall among the rows that
 * meet the coverage target (min coverage ≥ 0.95/K).
 */
export const OBJECTIVE_COLUMN: Readonly<Partial<Record<ObjectiveName, ColumnKey>>> = {
  "mean-recall": "meanRecall",
  "min-recall": "minRecall",
  "h-mean": "hMean",
  "g-mean": "gMean",
  "min-head-tail-recall": "minHeadTailRecall",
  "mean-recall-min-coverage": "meanRecall",
};
