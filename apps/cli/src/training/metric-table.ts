import type { MetricReport } from "@selmix/metrics";
import { formatTable } from "../table.ts";

/** The five metrics of the demo table, in column order, with their JSON keys. */
export const DEMO_METRICS: readonly { readonly key: keyof MetricReport; readonly title: string }[] = [
  { key: "meanRecall", title: "mean recall" },
  { key: "minRecall", title: "min recall" },
  { key: "hMean", title: "H-mean" },
  { key: "gMean", title: "G-mean" },
  { key: "minHeadTailRecall", title: "min head-tail recall" },
];

const ALL_METRICS: readonly { readonly key: keyof MetricReport; readonly title: string }[] = [
  { key: "accuracy", title: "accuracy" },
  ...DEMO_METRICS,
  { key: "minCoverage", title: "min coverage" },
];

/** A fraction as a percentage with two decimals. */
export function pct(x: number): string {
  return (100 * x).toFixed(2);
}

/** Every aggregate metric (rows) of several reports (columns), in percent. */
export function metricColumns(columns: readonly { readonly title: string; readonly report: MetricReport }[]): string {
  return formatTable(
    ["metric", ...columns.map((c) => `${c.title} (%)`)],
    ALL_METRICS.map(({ key, title }) => [title, ...columns.map((c) => pct(c.report[key] as number))]),
  );
}

/** Per-class recall (rows) of several reports (columns), in percent. */
export function recallColumns(columns: readonly { readonly title: string; readonly report: MetricReport }[]): string {
  const k = columns[0]?.report.recall.length ?? 0;
  return formatTable(
    ["class", ...columns.map((c) => `${c.title} recall (%)`)],
    Array.from({ length: k }, (_, i) => [String(i), ...columns.map((c) => pct(c.report.recall[i]!))]),
  );
}
