import { OBJECTIVE_NAMES } from "@selmix/metrics";
import { MIX_LABELS, MIXING_MODES, PAIR_POLICIES } from "@selmix/trainers";
import type { Command } from "commander";
import { startBackend } from "../backend.ts";
import { elapsedSeconds, mergedInput, type RunFlags } from "../flags.ts";
import { action, parseInteger, parseNumber, printJson } from "../run.ts";
import { BACKEND_CHOICES, WORKERS_HELP } from "../training/common.ts";
import { firstPoolHelp, GAIN_SWITCH_HELP, withObjectiveOptions } from "../training/selmix-options.ts";
import { type FinetuneOutcome, parseFinetuneInput, runFinetune } from "../training/finetune-run.ts";
import { metricColumns, recallColumns } from "../training/metric-table.ts";


function printSummary(outcome: FinetuneOutcome, out: string, backend: string, seconds: string): void {
  const c = outcome.config;
  const r = outcome.result;
  const columns = [
    { title: "before", report: outcome.before },
    { title: "after", report: outcome.after },
  ];
  process.stdout.write(
    `finetune for ${outcome.objectiveName} (${c.mode}, policy ${c.policy}${c.mixing === undefined ? "" : `, ${c.mixing} mixing`}${c.mixLabel === undefined ? "" : `, ${c.mixLabel} label`}${c.firstPool === undefined ? "" : `, x1 from ${c.firstPool}`}) from ${c.from}, seed ${c.seed}, backend ${backend}${c.workers === undefined ? "" : `, ${c.workers} gradient worker${c.workers === 1 ? "" : "s"}`}\n` +
      `${r.stepsRun} of ${c.steps} steps, selected step ${r.selectedStep} (validation ${outcome.objectiveName} ${r.selectedObjective.toFixed(4)})\n\n` +
      `test set, before = pre-trained start, after = fine-tuned\n${metricColumns(columns)}\n${recallColumns(columns)}\n` +
      `run dir ${out}: config.json manifest.json best.ckpt last.ckpt diagnostics.jsonl metrics.json report.svg\n` +
      `report ${outcome.reportPath}\ntime ${seconds} s\n`,
  );
}

/** `selmix finetune`: SelMix fine-tuning of a pre-trained run for a non-decomposable objective. */
export function registerFinetuneCommand(program: Command): void {
  const command = program
    .command("finetune")
    .description("SelMix fine-tuning of PRETRAIN_RUN_DIR/best.ckpt for an objective; prints the test metrics before and after")
    .requiredOption("--out <dir>", "(required) run directory (config.json, manifest.json, checkpoints, diagnostics.jsonl, metrics.json, report.svg)")
    .option("--from <dir>", "(required, here or in --config) pre-training run directory (its best.ckpt and manifest.json)")
    .option("--objective <name>", `(required unless --objective-module) one of ${OBJECTIVE_NAMES.join(", ")}`)
    .option("--objective-module <file>", "a JavaScript module exporting psi(confusion): optimise your own metric")
    .option("--semi-supervised", "partners from the unlabelled split, by the current model's pseudo-labels (refreshed with the gain)")
    .option("--config <file>", "JSON config file (keys as the long flags in camelCase); flags override it")
    .option("--mode <m>", "full (the whole network) | head-only (the head on cached features) (default: full)")
    .option("--policy <p>", `${PAIR_POLICIES.join(" | ")} (default: selmix)`)
    .option("--steps <n>", "SGD steps (default: 10000, the reference; early stop may end sooner)", parseInteger)
    .option("--refresh-every <n>", "recompute gain and sampler every n steps (default: 50)", parseInteger)
    .option("--batch-size <n>", "batch size (default: 64)", parseInteger)
    .option("--lr <x>", "head learning rate, cosine-decayed (default: 3e-4)", parseNumber)
    .option("--backbone-lr-factor <x>", "full mode: backbone lr = lr * factor (default: 0.1)", parseNumber)
    .option("--weight-decay <x>", "weight decay (default: 5e-4)", parseNumber)
    .option("--lambda-min <x>", "mixup lambda ~ U(x, 1), also of the input mixes (default: 0.6)", parseNumber)
    .option(
      "--mixing <mode>",
      `${MIXING_MODES.join(" | ")}: mix the pair's penultimate features (SelMix), its pixels, a CutMix box of area 1 - lambda from x2 in x1, or CutMix then feature mixup; full mode only (default: feature)`,
    )
    .option("--mix-label <rule>", `${MIX_LABELS.join(" | ")}: x1's label (SelMix) or x1's share on its label and the rest on x2's (mixup/CutMix); full mode only (default: first)`)
    .option("--temperature <t>", "temperature of the pair distribution (default: 0.1)", parseNumber)
    .option("--temperature-scale <s>", "absolute (G/T) | spread (G/(T*std G)) (default: absolute)")
    .option("--gain-variant <v>", GAIN_SWITCH_HELP.gainVariant)
    .option("--confusion <c>", GAIN_SWITCH_HELP.confusion)
    .option("--target-term <t>", GAIN_SWITCH_HELP.targetTerm)
    .option("--prior <p>", GAIN_SWITCH_HELP.prior)
    .option("--early-stop", "stop when the largest gain stabilises: window 10, 5% (default: on)")
    .option("--no-early-stop", "run every step")
    .option("--no-select-best", "keep the last weights instead of the best validation objective")
    .option("--augment <a>", "none | weak (crop + flip on both images) (default: weak in full mode on images, none on text)")
    .option("--padding <n>", "reflect-padding of the weak view's random crop, 0 = flips only (default: 4)", parseInteger)
    .option("--partner-view <v>", "semi-supervised: weak (pseudo-label a weak view of each unlabelled partner, as the reference) | plain (the images) (default: weak)")
    .option("--first-pool <p>", firstPoolHelp("the unlabelled split (with --semi-supervised)"));
  withObjectiveOptions(command)
    .option("--data-dir <dir>", "folder with the data files (default: $SELMIX_DATA_DIR)")
    .option("--seed <n>", "seed of the pair sampling and mixup (default: 0)", parseInteger)
    .option("--backend <name>", `${BACKEND_CHOICES.join(" | ")} (default: $SELMIX_BACKEND, else auto)`)
    .option("--workers <n>", `full mode: ${WORKERS_HELP}`, parseInteger)
    .option("--no-resume", "start over even if RUN_DIR/last.ckpt exists")
    .option("--json", "print one JSON object instead of tables")
    .action(
      action(async (flags: RunFlags, command: Command) => {
        const start = performance.now();
        const input = mergedInput(command, flags.config, parseFinetuneInput);
        const backend = await startBackend(input.backend);
        const outcome = await runFinetune(input, { out: flags.out, resume: flags.resume, json: flags.json === true, backend, label: "finetune" });
        if (flags.json) {
          const r = outcome.result;
          printJson({
            runDir: flags.out,
            backend,
            config: outcome.config,
            objective: outcome.objectiveName,
            selectedStep: r.selectedStep,
            selectedObjective: r.selectedObjective,
            stepsRun: r.stepsRun,
            before: outcome.before,
            after: outcome.after,
            report: outcome.reportPath,
          });
        } else printSummary(outcome, flags.out, backend, elapsedSeconds(start));
      }),
    );
}
