import { join } from "node:path";
import { SelmixError } from "@selmix/core";
import { loadManifest, materialize } from "@selmix/datasets";
import { modelFromCheckpoint } from "@selmix/models";
import { evaluate } from "@selmix/trainers";
import type { Command } from "commander";
import { startBackend } from "../backend.ts";
import { action, printJson } from "../run.ts";
import { BACKEND_CHOICES } from "../training/common.ts";
import { requireRunFiles } from "../training/run-dir.ts";
import { renderReport } from "./metrics.ts";

interface EvalFlags {
  readonly run: string;
  readonly checkpoint: string;
  readonly split: string;
  readonly dataDir?: string;
  readonly backend?: string;
  readonly json?: boolean;
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
        const { model, checkpoint } = modelFromCheckpoint(path);
        try {
          if (checkpoint.metadata.datasetManifestId !== manifest.id) {
            throw new SelmixError("MISMATCH", `${path} was not trained on the dataset of ${join(flags.run, "manifest.json")}`);
          }
          const splits = await materialize(manifest, flags.dataDir === undefined ? {} : { dataDir: flags.dataDir });
          const subset = splits[flags.split];
          const { metrics } = await evaluate(model, subset.dataset, subset.indices);
          if (flags.json) {
            printJson(metrics);
            return;
          }
          const m = checkpoint.metadata;
          process.stdout.write(
            `${path}: ${m.arch}, step ${m.step}, ${manifest.source.name} ${flags.split} split (${subset.indices.length} images), backend ${backend}\n\n${renderReport(metrics)}`,
          );
        } finally {
          model.dispose();
        }
      }),
    );
}
