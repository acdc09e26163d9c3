import { OBJECTIVE_NAMES } from "@selmix/metrics";
import type { Command } from "commander";
import { startBackend } from "../backend.ts";
import { elapsedSeconds } from "../flags.ts";
import { action, parseNumber, printJson } from "../run.ts";
import { BACKEND_CHOICES } from "../training/common.ts";
import { metricColumns, recallColumns } from "../training/metric-table.ts";
import { type PosthocOutcome, runPosthoc } from "../training/posthoc-run.ts";
import { ADJUSTMENT_FILE } from "../training/run-dir.ts";

interface PosthocFlags {
  readonly from?: string;
  readonly out: string;
  readonly objective?: string;
  readonly objectiveModule?: string;
  readonly headFraction?: number;
  readonly coverageAlpha?: number;
  readonly dataDir?: string;
  readonly backend?: string;
  readonly json?: boolean;
}

function printSummary(o: PosthocOutcome, out: string, backend: string, seconds: string): void {
  const columns = [
    { title: "before", report: o.before },
    { title: "after", report: o.after },
  ];
  const offsets = Array.from(o.adjustment.offsets, (v) => v.toFixed(3)).join(" ");
  process.stdout.write(
    `posthoc for ${o.config.objective} from ${o.config.from}, backend ${backend}\n` +
      `validation ${o.config.objective} ${o.adjustment.fit.before.toFixed(4)} -> ${o.adjustment.fit.after.toFixed(4)} ` +
      `(${o.adjustment.fit.samples} images, ${o.adjustment.iterations} moves, ${o.fitSeconds.toFixed(2)} s)\n` +
      `logit offsets: ${offsets}\n\n` +
      `test set, before = the run's model, after = with the offsets\n${metricColumns(columns)}\n${recallColumns(columns)}\n` +
      `run dir ${out}: config.json manifest.json best.ckpt ${ADJUSTMENT_FILE} metrics.json report.svg (selmix eval --run ${out} applies the offsets)\n` +
      `report ${o.reportPath}\ntime ${seconds} s\n`,
  );
}

/** `selmix posthoc`: the post-hoc plug-in baseline, per-class logit offsets fitted on the validation set. */
export function registerPosthocCommand(program: Command): void {
  program
    .command("posthoc")
    .description("fit per-class logit offsets of RUN_DIR/best.ckpt on the validation set for an objective (no training); prints the test metrics before and after")
    .requiredOption("--out <dir>", `(required) run directory (config.json, manifest.json, best.ckpt, ${ADJUSTMENT_FILE}, metrics.json, report.svg)`)
    .option("--from <dir>", "(required) run directory of pretrain or finetune (its best.ckpt and manifest.json)")
    .option("--objective <name>", `(required unless --objective-module) one of ${OBJECTIVE_NAMES.join(", ")}`)
    .option("--objective-module <file>", "a JavaScript module exporting psi(confusion): optimise your own metric")
    .option("--head-fraction <f>", "min-head-tail-recall: fraction of classes (by index) that are head (default: 0.9)", parseNumber)
    .option("--coverage-alpha <a>", "coverage objectives: every class must be predicted at least alpha/K of the time (default: 0.95)", parseNumber)
    .option("--data-dir <dir>", "folder with the data files (default: $SELMIX_DATA_DIR)")
    .option("--backend <name>", `${BACKEND_CHOICES.join(" | ")} (default: $SELMIX_BACKEND, else auto)`)
    .option("--json", "print one JSON object instead of tables")
    .action(
      action(async (flags: PosthocFlags) => {
        const start = performance.now();
        const backend = await startBackend(flags.backend);
        const input = {
          ...(flags.from === undefined ? {} : { from: flags.from }),
          ...(flags.objective === undefined ? {} : { objective: flags.objective }),
          ...(flags.objectiveModule === undefined ? {} : { objectiveModule: flags.objectiveModule }),
          ...(flags.headFraction === undefined ? {} : { headFraction: flags.headFraction }),
          ...(flags.coverageAlpha === undefined ? {} : { coverageAlpha: flags.coverageAlpha }),
          ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
        };
        const outcome = await runPosthoc(input, flags.out, backend);
        if (flags.json) {
          printJson({
            runDir: flags.out,
            backend,
            config: outcome.config,
            offsets: Array.from(outcome.adjustment.offsets),
            validation: outcome.adjustment.fit,
            before: outcome.before,
            after: outcome.after,
            report: outcome.reportPath,
          });
        } else printSummary(outcome, flags.out, backend, elapsedSeconds(start));
      }),
    );
}
