import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SelmixError } from "@selmix/core";
import { type Dataset, loadManifest, materialize } from "@selmix/datasets";
import { modelFromCheckpoint } from "@selmix/models";
import { confusionFromPredictions, evaluateMetrics, type MetricReport } from "@selmix/metrics";
import type { Model } from "@selmix/models";
import { adjustedPredictions, type LogitOffsets, parseAdjustment } from "@selmix/posthoc";
import { evaluate, predict } from "@selmix/trainers";
import type { Command } from "commander";
import { startBackend } from "../backend.ts";
import { action, printJson } from "../run.ts";
import { BACKEND_CHOICES } from "../training/common.ts";
import { ADJUSTMENT_FILE, requireRunFiles } from "../training/run-dir.ts";
import { renderReport } from "./metrics.ts";

interface EvalFlags {
  readonly run: string;
  readonly checkpoint: string;
  readonly split: string;
  readonly dataDir?: string;
  readonly backend?: string;
  readonly json?: boolean;
  readonly adjustment: boolean;
}

/** Every metric of the model on a subset, with the post-hoc offsets applied when given. */
async function metricsOf(model: Model, subset: { dataset: Dataset; indices: Int32Array }, adjustment: LogitOffsets | undefined): Promise<MetricReport> {
  if (adjustment === undefined) return (await evaluate(model, subset.dataset, subset.indices)).metrics;
  const k = model.numClasses;
  const { probabilities } = await predict(model, subset.dataset, subset.indices);
  const predicted = adjustedPredictions({ scores: probabilities, numClasses: k, space: "probabilities" }, adjustment.offsets);
  const labels = Int32Array.from(subset.indices, (i) => subset.dataset.labels[i]!);
  return evaluateMetrics(confusionFromPredictions(labels, predicted, k));
}

/** `selmix eval`: every metric of a run's checkpoint on its test (or validation) split. */
export function registerEvalCommand(program: Command): void {
  program
    .command("eval")
    .description("evaluate a run's checkpoint on its test (or validation) split: every metric and a per-class table")
    .requiredOption("--run <dir>", "(required) run directory of pretrain or finetune (manifest.json and the checkpoint)")
    .option("--checkpoint <file>", "checkpoint file inside the run directory", "best.ckpt")
    .option("--split <name>", "test | validation", "test")
    .option("--data-dir <dir>", "folder with the data files (default: $SELMIX_DATA_DIR)")
    .option("--backend <name>", `${BACKEND_CHOICES.join(" | ")} (default: $SELMIX_BACKEND, else auto)`)
    .option("--no-adjustment", `ignore RUN/${ADJUSTMENT_FILE} (the post-hoc logit offsets, applied when present)`)
    .option("--json", "print the metric report as one JSON object")
    .action(
      action(async (flags: EvalFlags) => {
        if (flags.split !== "test" && flags.split !== "validation") {
          throw new SelmixError("INVALID_ARGUMENT", `--split must be test or validation, got "${flags.split}"`);
        }
        requireRunFiles(flags.run, ["manifest.json", flags.checkpoint], "run");
        const backend = await startBackend(flags.backend);
        const manifest = await loadManifest(join(flags.run, "manifest.json"));
        const path = join(flags.run, flags.checkpoint);
        const adjustmentPath = join(flags.run, ADJUSTMENT_FILE);
        const { model, checkpoint } = modelFromCheckpoint(path);
        try {
          const adjustment =
            flags.adjustment && existsSync(adjustmentPath) ? parseAdjustment(readFileSync(adjustmentPath, "utf8"), adjustmentPath, model.numClasses) : undefined;
          if (checkpoint.metadata.datasetManifestId !== manifest.id) {
            throw new SelmixError("MISMATCH", `${path} was not trained on the dataset of ${join(flags.run, "manifest.json")}`);
          }
          const splits = await materialize(manifest, flags.dataDir === undefined ? {} : { dataDir: flags.dataDir });
          const subset = splits[flags.split];
          const metrics = await metricsOf(model, subset, adjustment);
          if (flags.json) {
            printJson(metrics);
            return;
          }
          const m = checkpoint.metadata;
          process.stdout.write(
            `${path}: ${m.arch}, step ${m.step}, ${manifest.source.name} ${flags.split} split (${subset.indices.length} images), backend ${backend}` +
              `${adjustment === undefined ? "" : `, post-hoc offsets for ${adjustment.objective} from ${adjustmentPath}`}\n\n${renderReport(metrics)}`,
          );
        } finally {
          model.dispose();
        }
      }),
    );
}
