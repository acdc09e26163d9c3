import { MODEL_ARCHS } from "@selmix/models";
import type { Command } from "commander";
import { startBackend } from "../backend.ts";
import { elapsedSeconds, mergedInput, type RunFlags } from "../flags.ts";
import { action, parseInteger, parseNumber, printJson } from "../run.ts";
import { BACKEND_CHOICES, WORKERS_HELP } from "../training/common.ts";
import { metricColumns } from "../training/metric-table.ts";
import { type PretrainOutcome, parsePretrainInput, runPretrain } from "../training/pretrain-run.ts";
import { withSplitOptions } from "../training/split-options.ts";

/** `--fill`: a byte or one of the named fills. */
function parseFill(value: string): number | "border" | "mean" {
  return value === "border" || value === "mean" ? value : parseInteger(value);
}

/** `--rand-augment-magnitude`: a number, or `random`. */
function parseMagnitude(value: string): number | "random" {
  return value === "random" ? value : parseNumber(value);
}

function printSummary(outcome: PretrainOutcome, out: string, backend: string, seconds: string): void {
  const c = outcome.config;
  const profile = `${c.profile}, N1=${c.n1} rho=${c.rhoL}${c.rhoU === undefined ? "" : ` M1=${c.m1} rho_u=${c.rhoU}`}`;
  process.stdout.write(
    `pretrain ${c.method.toUpperCase()} ${c.model} on ${c.source} (${profile}), seed ${c.seed}, backend ${backend}, ${c.workers ?? 1} gradient worker${(c.workers ?? 1) === 1 ? "" : "s"}\n` +
      `best step ${outcome.result.bestStep} of ${c.steps} by validation ${c.selectBy}\n\n` +
      metricColumns([
        { title: "validation", report: outcome.validation },
        { title: "test", report: outcome.test },
      ]) +
      `\nrun dir ${out}: config.json manifest.json best.ckpt last.ckpt metrics.json\ntime ${seconds} s\n`,
  );
}

/** `selmix pretrain`: ERM or logit-adjusted pre-training on a long-tailed split, resumable. */
export function registerPretrainCommand(program: Command): void {
  const pretrain = program
    .command("pretrain")
    .description("pre-train a model (ERM, logit-adjusted, FixMatch or FixMatch-LA) on a long-tailed split; RUN_DIR/best.ckpt is the result")
    .requiredOption("--out <dir>", "(required) run directory (config.json, manifest.json, last.ckpt, best.ckpt, metrics.json)")
    .option("--config <file>", "JSON config file (keys as the long flags in camelCase); flags override it")
    .option("--source <name>", "mnist | fashion-mnist | cifar10 | cifar100 | stl10 | wordnet-nouns (glosses) | wordnet-nouns-lemmas (lemmas + glosses) (default: mnist)")
    .option("--profile <name>", "supervised | semi-supervised | cifar100 | stl10 | natural (the source's own imbalance, --n1 caps every class) (default: natural for text sources, else supervised)");
  withSplitOptions(pretrain)
    .option("--data-dir <dir>", "folder with the data files (default: $SELMIX_DATA_DIR)")
    .option("--no-strict-counts", "accept data files with fewer records than the official ones (subsets; the manifest records their hashes)")
    .option("--model <arch>", `${MODEL_ARCHS.join(" | ")} (default: text-bag for text sources, else mlp)`)
    .option("--method <m>", "erm | la (logit-adjusted) | fixmatch | fixmatch-la (the last two need --profile semi-supervised) (default: la)")
    .option("--mu <n>", "FixMatch: unlabelled images per labelled image in a step (default: 2)", parseInteger)
    .option("--threshold <x>", "FixMatch: pseudo-label confidence threshold (default: 0.95)", parseNumber)
    .option("--lambda-u <x>", "FixMatch: weight of the unlabelled loss (default: 1)", parseNumber)
    .option("--no-ema-warmup", "FixMatch: EMA decay 0.999 from step 0, as the reference (default: warm-up min(ema, (1+t)/(10+t)))")
    .option("--unlabeled-prior <p>", "FixMatch-LA: prior of the unlabelled pool: uniform (reference) | labelled (adjust the unlabelled loss as the labelled one) | estimated (EM from the pool) (default: uniform)")
    .option("--distribution-alignment", "FixMatch: align the pseudo-labels' running class marginal to the assumed unlabelled prior (uniform, or labelled with --unlabeled-prior labelled; ReMixMatch's distribution alignment) (default: off)")
    .option("--padding <n>", "reflect-padding of the weak view's random crop (FixMatch, and --augment weak), 0 = no crop (default: 4)", parseInteger)
    .option("--fill <v>", "FixMatch: fill of the strong view's geometric ops and Cutout: 0..255 | border | mean (default: border)", parseFill)
    .option("--rand-augment-ops <n>", "FixMatch: RandAugment operations per strong view (default: 3)", parseInteger)
    .option("--rand-augment-magnitude <m>", "FixMatch: RandAugment magnitude 0..10, or random (default: 5)", parseMagnitude)
    .option("--init-from <ckpt>", "start from these weights (e.g. a labelled-only LA best.ckpt: a warm start) instead of the seeded initialisation")
    .option("--steps <n>", "SGD steps (default: 2000)", parseInteger)
    .option("--batch-size <n>", "batch size (default: 64)", parseInteger)
    .option("--lr <x>", "learning rate, cosine-decayed (default: 0.05)", parseNumber)
    .option("--momentum <x>", "Nesterov momentum (default: 0.9)", parseNumber)
    .option("--weight-decay <x>", "weight decay (default: 5e-4)", parseNumber)
    .option("--schedule <s>", "cosine | fixmatch-cosine | constant (default: cosine)")
    .option("--la-tau <x>", "tau of the logit adjustment (default: 1)", parseNumber)
    .option("--ema <x>", "EMA decay of the evaluated weights, 0 = off (default: 0)", parseNumber)
    .option("--eval-every <n>", "validate (and checkpoint) every n steps (default: 500)", parseInteger)
    .option("--select-by <metric>", "validation metric that picks best.ckpt (default: mean-recall)")
    .option("--augment <a>", "none | weak (images only) (default: none)")
    .option("--seed <n>", "seed of the split, the initial weights and the batches (default: 0)", parseInteger)
    .option("--backend <name>", `${BACKEND_CHOICES.join(" | ")} (default: $SELMIX_BACKEND, else auto)`)
    .option("--workers <n>", WORKERS_HELP, parseInteger)
    .option("--no-resume", "start over even if RUN_DIR/last.ckpt exists")
    .option("--json", "print one JSON object instead of tables")
    .action(
      action(async (flags: RunFlags, command: Command) => {
        const start = performance.now();
        const input = mergedInput(command, flags.config, parsePretrainInput);
        const backend = await startBackend(input.backend);
        const outcome = await runPretrain(input, { out: flags.out, resume: flags.resume, json: flags.json === true, backend, label: "pretrain" });
        if (flags.json) {
          printJson({
            runDir: flags.out,
            backend,
            config: outcome.config,
            manifestId: outcome.manifest.id,
            bestStep: outcome.result.bestStep,
            validation: outcome.validation,
            test: outcome.test,
          });
        } else printSummary(outcome, flags.out, backend, elapsedSeconds(start));
      }),
    );
}
