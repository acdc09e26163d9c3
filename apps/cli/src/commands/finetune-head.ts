import { OBJECTIVE_NAMES } from "@selmix/metrics";
import { PAIR_POLICIES } from "@selmix/trainers";
import type { Command } from "commander";
import { elapsedSeconds, givenOptions } from "../flags.ts";
import { action, parseInteger, parseNumber, printJson } from "../run.ts";
import { FINETUNE_HEAD_DEFAULTS, type FinetuneHeadOutcome, parseFinetuneHeadInput, runFinetuneHead } from "../training/finetune-head-run.ts";
import { metricColumns, recallColumns } from "../training/metric-table.ts";
import { firstPoolHelp, GAIN_SWITCH_HELP, withObjectiveOptions } from "../training/selmix-options.ts";

interface RunFlags {
  readonly out: string;
  readonly json?: boolean;
  readonly resume: boolean;
}

function printSummary(outcome: FinetuneHeadOutcome, out: string, seconds: string): void {
  const c = outcome.config;
  const r = outcome.result;
  const columns = [
    { title: "before", report: outcome.before },
    { title: "after", report: outcome.after },
  ];
  const start = c.startHead === "given" ? "the given head" : `a fitted head (${c.initSteps} steps of logit-adjusted softmax regression)`;
  process.stdout.write(
    `finetune-head for ${c.objective} (policy ${c.policy}) from ${start}: K ${outcome.numClasses}, d ${outcome.dim}, seed ${c.seed}\n` +
      `${r.stepsRun} of ${c.steps} steps, selected step ${r.selectedStep} (validation ${c.objective} ${r.selectedObjective.toFixed(4)})\n\n` +
      `${outcome.split} set, before = starting head, after = fine-tuned head\n${metricColumns(columns)}\n${recallColumns(columns)}\n` +
      `out ${out}: head-weights.npy head-bias.npy diagnostics.jsonl metrics.json config.json last-state.json\ntime ${seconds} s\n`,
  );
}

/** `selmix finetune-head`: SelMix fine-tuning of a linear head on features exported from any framework. */
export function registerFinetuneHeadCommand(program: Command): void {
  const d = FINETUNE_HEAD_DEFAULTS;
  const command = program
    .command("finetune-head")
    .description("SelMix fine-tuning of a linear head on .npy features from your own (frozen) backbone; writes the new head as .npy")
    .requiredOption("--out <dir>", "(required) output directory (head-weights.npy, head-bias.npy, diagnostics.jsonl, metrics.json, config.json, last-state.json)")
    .option("--train-features <file>", "(required) training features, float32/float64 .npy [N, d]")
    .option("--train-labels <file>", "(required) training labels, integer .npy [N]")
    .option("--val-features <file>", "(required) validation features [M, d] (gain, multipliers and selection)")
    .option("--val-labels <file>", "(required) validation labels [M]; every class needs at least one")
    .option("--test-features <file>", "test features [T, d] for the before/after metrics (else validation)")
    .option("--test-labels <file>", "test labels [T]")
    .option("--unlabeled-features <file>", "unlabelled features [U, d]: mixup partners by pseudo-label (semi-supervised)")
    .option("--first-pool <p>", firstPoolHelp("the --unlabeled-features"))
    .option("--head-weights <file>", "starting head weights [K, d] (e.g. model.fc.weight); default: fit one")
    .option("--head-bias <file>", "starting head bias [K]")
    .option("--init-steps <n>", `steps of the fitted starting head without --head-weights (default: ${d.initSteps})`, parseInteger)
    .option("--objective <name>", `(required) one of ${OBJECTIVE_NAMES.join(", ")}`)
    .option("--policy <p>", `${PAIR_POLICIES.join(" | ")} (default: selmix)`)
    .option("--steps <n>", `SGD steps (default: ${d.steps})`, parseInteger)
    .option("--refresh-every <n>", "recompute gain and sampler every n steps (default: 50)", parseInteger)
    .option("--batch-size <n>", "batch size (default: 64)", parseInteger)
    .option("--lr <x>", `learning rate, cosine-decayed (default: ${d.lr})`, parseNumber)
    .option("--weight-decay <x>", "weight decay (default: 5e-4)", parseNumber)
    .option("--lambda-min <x>", "mixup lambda ~ U(x, 1) (default: 0.6)", parseNumber)
    .option("--temperature <t>", `temperature of the pair distribution (default: ${d.temperature})`, parseNumber)
    .option("--temperature-scale <s>", "absolute (G/T) | spread (G/(T*std G)) (default: spread)")
    .option("--gain-variant <v>", GAIN_SWITCH_HELP.gainVariant)
    .option("--confusion <c>", GAIN_SWITCH_HELP.confusion)
    .option("--target-term <t>", GAIN_SWITCH_HELP.targetTerm)
    .option("--prior <p>", GAIN_SWITCH_HELP.prior)
    .option("--early-stop", "stop when the largest gain stabilises: window 10, 5% (default: off)")
    .option("--no-select-best", "keep the last head instead of the best validation objective");
  withObjectiveOptions(command)
    .option("--seed <n>", "seed of the pair sampling, mixup and fitted head (default: 0)", parseInteger)
    .option("--no-resume", "start over even if OUT/last-state.json exists")
    .option("--json", "print one JSON object instead of tables")
    .action(
      action(async (flags: RunFlags, command: Command) => {
        const start = performance.now();
        const input = parseFinetuneHeadInput(givenOptions(command));
        const outcome = await runFinetuneHead(input, flags.out, flags.json === true, flags.resume);
        if (flags.json) {
          const r = outcome.result;
          printJson({
            out: flags.out,
            config: outcome.config,
            numClasses: outcome.numClasses,
            dim: outcome.dim,
            split: outcome.split,
            selectedStep: r.selectedStep,
            selectedObjective: r.selectedObjective,
            stepsRun: r.stepsRun,
            before: outcome.before,
            after: outcome.after,
          });
        } else printSummary(outcome, flags.out, elapsedSeconds(start));
      }),
    );
}
