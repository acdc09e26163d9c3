import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SelmixError } from "@selmix/core";
import { writeFileAtomic } from "@selmix/core/node";
import { type Dataset, loadManifest, type Manifest, materialize, writeManifest } from "@selmix/datasets";
import { confusionFromPredictions, createObjective, evaluateMetrics, type MetricReport, OBJECTIVE_NAMES, type Objective, type ObjectiveName } from "@selmix/metrics";
import { modelFromCheckpoint } from "@selmix/models";
import { adjustedPredictions, adjustmentJson, fitPosthoc, type LogitOffsets } from "@selmix/posthoc";
import { predict } from "@selmix/trainers";
import { loadObjectiveModule } from "./objective-module.ts";
import { renderReportSvg } from "./report-svg.ts";
import { ADJUSTMENT_FILE, requireRunFiles, writeJson } from "./run-dir.ts";
import { objectiveOptionsFrom } from "./selmix-options.ts";

/** Options of `selmix posthoc`. */
export interface PosthocInput {
  /** Run directory with best.ckpt and manifest.json (a pre-training or a fine-tuning run). */
  readonly from?: string;
  readonly objective?: string;
  readonly objectiveModule?: string;
  readonly headFraction?: number;
  readonly coverageAlpha?: number;
  readonly dataDir?: string;
}

/** The resolved settings, written to OUT/config.json. */
export interface PosthocRunConfig {
  readonly command: "posthoc";
  /** Absolute path of the run whose model is adjusted. */
  readonly from: string;
  readonly objective: string;
  readonly objectiveModule?: string;
  readonly headFraction?: number;
  readonly coverageAlpha?: number;
}

/** What {@link runPosthoc} produced. */
export interface PosthocOutcome {
  readonly config: PosthocRunConfig;
  readonly manifest: Manifest;
  readonly adjustment: LogitOffsets;
  /** The model without (`before`) and with (`after`) the offsets, on the test set. */
  readonly before: MetricReport;
  readonly after: MetricReport;
  readonly reportPath: string;
  readonly fitSeconds: number;
}

async function objectiveOf(input: PosthocInput): Promise<Objective> {
  if ((input.objective === undefined) === (input.objectiveModule === undefined)) {
    throw new SelmixError("USAGE", `give exactly one of --objective (${OBJECTIVE_NAMES.join(", ")}) and --objective-module FILE`);
  }
  if (input.objectiveModule !== undefined) return loadObjectiveModule(input.objectiveModule);
  const name = input.objective!;
  if (!(OBJECTIVE_NAMES as readonly string[]).includes(name)) {
    throw new SelmixError("USAGE", `--objective must be one of ${OBJECTIVE_NAMES.join(", ")}, got "${name}"`);
  }
  return createObjective(name as ObjectiveName, objectiveOptionsFrom({ headFraction: input.headFraction, coverageAlpha: input.coverageAlpha }));
}

const labelsOf = (dataset: Dataset, indices: Int32Array): Int32Array => Int32Array.from(indices, (i) => dataset.labels[i]!);

/**
 * `selmix posthoc` without the printing: loads RUN_DIR/best.ckpt, fits per-class logit offsets on the validation
 * set for the objective (no training, never the test set), evaluates the model without and with them on the test
 * set, and writes OUT/config.json, manifest.json, best.ckpt (a copy, so OUT is a run `selmix eval` can read),
 * adjustment.json, metrics.json and report.svg, each atomically.
 *
 * @throws `SelmixError` `USAGE` (exit code 2) for a missing or unknown objective or OUT = RUN_DIR; `NOT_FOUND` for a
 *   missing run or file; `MISMATCH` when the checkpoint and the manifest disagree; the objective module's codes.
 */
export async function runPosthoc(input: PosthocInput, out: string, backend: string): Promise<PosthocOutcome> {
  if (input.from === undefined) throw new SelmixError("USAGE", "--from RUN_DIR is required");
  const objective = await objectiveOf(input);
  const from = resolve(input.from);
  if (resolve(out) === from) throw new SelmixError("USAGE", `--out must differ from --from (${from}): the run's own files stay as they are`);
  requireRunFiles(from, ["best.ckpt", "manifest.json"], "run");
  const manifest = await loadManifest(join(from, "manifest.json"));
  const checkpointPath = join(from, "best.ckpt");
  const { model, checkpoint } = modelFromCheckpoint(checkpointPath);
  try {
    if (checkpoint.metadata.datasetManifestId !== manifest.id) {
      throw new SelmixError("MISMATCH", `${checkpointPath} was not trained on the dataset of ${join(from, "manifest.json")}`);
    }
    const splits = await materialize(manifest, input.dataDir === undefined ? {} : { dataDir: input.dataDir });
    const k = model.numClasses;
    const { validation, test } = splits;
    const t0 = performance.now();
    const val = await predict(model, validation.dataset, validation.indices);
    const adjustment = fitPosthoc(objective, { scores: val.probabilities, labels: labelsOf(validation.dataset, validation.indices), numClasses: k, space: "probabilities" });
    const fitSeconds = (performance.now() - t0) / 1000;
    const testLabels = labelsOf(test.dataset, test.indices);
    const scored = await predict(model, test.dataset, test.indices);
    const before = evaluateMetrics(confusionFromPredictions(testLabels, scored.predicted, k));
    const adjusted = adjustedPredictions({ scores: scored.probabilities, numClasses: k, space: "probabilities" }, adjustment.offsets);
    const after = evaluateMetrics(confusionFromPredictions(testLabels, adjusted, k));

    const config: PosthocRunConfig = {
      command: "posthoc",
      from,
      objective: objective.name,
      ...(input.objectiveModule === undefined ? {} : { objectiveModule: resolve(input.objectiveModule) }),
      ...(input.headFraction === undefined ? {} : { headFraction: input.headFraction }),
      ...(input.coverageAlpha === undefined ? {} : { coverageAlpha: input.coverageAlpha }),
    };
    writeJson(join(out, "config.json"), config);
    writeManifest(join(out, "manifest.json"), manifest);
    writeFileAtomic(join(out, "best.ckpt"), readFileSync(checkpointPath));
    writeFileAtomic(join(out, ADJUSTMENT_FILE), adjustmentJson(adjustment));
    writeJson(join(out, "metrics.json"), {
      backend,
      objective: objective.name,
      adjustment: adjustment.kind,
      validation: adjustment.fit,
      fitSeconds,
      before,
      after,
    });
    const reportPath = join(out, "report.svg");
    const svg = await renderReportSvg({
      title: `Post-hoc logit offsets for ${objective.name} (validation ${adjustment.fit.before.toFixed(4)} -> ${adjustment.fit.after.toFixed(4)})`,
      series: [
        { label: "model", recall: before.recall },
        { label: `model + post-hoc (${objective.name})`, recall: after.recall },
      ],
    });
    writeFileAtomic(reportPath, svg);
    return { config, manifest, adjustment, before, after, reportPath, fitSeconds };
  } finally {
    model.dispose();
  }
}
