import { confusionMatrix, evaluateMetrics, type MetricReport } from "@selmix/metrics";
import type { Command } from "commander";
import { action, parseNumber, printJson, readJsonFile } from "../run.ts";
import { formatTable } from "../table.ts";

interface MetricsOptions {
  readonly confusion: string;
  readonly headFraction: number;
  readonly json?: boolean;
}

/** `selmix metrics`: every non-decomposable metric of a confusion matrix file. */
export function registerMetricsCommand(program: Command): void {
  program
    .command("metrics")
    .description("non-decomposable metrics of a confusion matrix (K x K JSON array of counts or joint probabilities, rows = true class)")
    .requiredOption("--confusion <file>", "(required) JSON file holding the K x K confusion matrix")
    .option("--head-fraction <f>", "fraction of classes (by index) counted as head", parseNumber, 0.9)
    .option("--json", "print one JSON object instead of tables")
    .action(
      action((options: MetricsOptions) => {
        const cm = confusionMatrix(readJsonFile(options.confusion), options.confusion);
        const report = evaluateMetrics(cm, { headFraction: options.headFraction });
        if (options.json) printJson(report);
        else process.stdout.write(renderReport(report));
      }),
    );
}

function pct(x: number): string {
  return (100 * x).toFixed(2);
}

/** Human-readable tables: the aggregates, then one row per class. */
export function renderReport(report: MetricReport): string {
  const summary = formatTable(
    ["metric", "value (%)"],
    [
      ["accuracy", pct(report.accuracy)],
      ["mean recall", pct(report.meanRecall)],
      ["min recall", pct(report.minRecall)],
      ["H-mean of recalls", pct(report.hMean)],
      ["G-mean of recalls", pct(report.gMean)],
      ["min head/tail recall", pct(report.minHeadTailRecall)],
      ["min coverage", pct(report.minCoverage)],
    ],
  );
  const perClass = formatTable(
    ["class", "recall (%)", "coverage (%)"],
    report.recall.map((r, i) => [String(i), pct(r), pct(report.coverage[i]!)]),
  );
  return `${summary}\n${perClass}`;
}
