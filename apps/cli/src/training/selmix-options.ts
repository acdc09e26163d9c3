import { SelmixError } from "@selmix/core";
import { type ClassPrior, OBJECTIVE_NAMES, type ObjectiveOptions } from "@selmix/metrics";
import {
  DEFAULT_FIRST_POOL,
  FIRST_POOLS,
  type FinetuneConfig,
  type FirstPool,
  type GainConfusion,
  type GainVariant,
  gainSwitches,
  PAIR_POLICIES,
  type TargetTerm,
} from "@selmix/trainers";
import type { Command } from "commander";
import { z } from "zod";
import { parseNumber } from "../run.ts";

/** Schema of the SelMix settings shared by `selmix finetune` and `selmix finetune-head` (keys = long flags, camelCase). */
export const SELMIX_OPTION_SHAPE = {
  objective: z.enum(OBJECTIVE_NAMES),
  policy: z.enum(PAIR_POLICIES),
  steps: z.int().positive(),
  refreshEvery: z.int().positive(),
  batchSize: z.int().positive(),
  lr: z.number().positive(),
  weightDecay: z.number().nonnegative(),
  lambdaMin: z.number().min(0).max(1),
  temperature: z.number().positive(),
  temperatureScale: z.enum(["absolute", "spread"]),
  gainVariant: z.enum(["reference", "paper"]),
  confusion: z.enum(["argmax", "soft"]),
  targetTerm: z.enum(["reference", "exact"]),
  prior: z.enum(["uniform", "validation"]),
  earlyStop: z.boolean(),
  selectBest: z.boolean(),
  firstPool: z.enum(FIRST_POOLS),
  seed: z.int(),
  rate: z.number().positive(),
  memory: z.number().min(0).max(1),
  headFraction: z.number().gt(0).lt(1),
  coverageAlpha: z.number().positive(),
  coverageTau: z.number().positive(),
  lambdaMax: z.number().positive(),
};

/** Help of the gain switches, shared by `selmix finetune` and `selmix finetune-head`. */
export const GAIN_SWITCH_HELP = {
  gainVariant: "named pair of --confusion and --target-term: reference (argmax, reference) | paper (soft, exact) (default: reference)",
  confusion: "confusion matrix of the gain and of the objective's multipliers: argmax | soft (overrides --gain-variant)",
  targetTerm: "target-class term of the logit change: reference (z_i.z_q) | exact (mixed prototype) (overrides --gain-variant)",
  prior: "class prior of the gain rate and of the objective's derivative: uniform (1/prior = K) | validation (row sums, for an imbalanced validation set) (default: uniform)",
} as const;

/** Help of `--first-pool`, shared by `selmix finetune` and `selmix finetune-head`; `unlabelled` names the unlabelled data. */
export const firstPoolHelp = (unlabelled: string): string =>
  `${FIRST_POOLS.join(" | ")}: x1 from the labelled split (the paper) or also from ${unlabelled}, under the partners' pseudo-labels (default: labeled)`;

/**
 * `firstPool` for a run's config.json: absent for the paper's pool (a default run's config stays as before, so its
 * resume still matches).
 *
 * @param needs - the flag that supplies the unlabelled data, for the error.
 * @throws `SelmixError` `INVALID_ARGUMENT` for `labeled+unlabeled` without unlabelled data.
 */
export function firstPoolKey(firstPool: FirstPool | undefined, hasUnlabelled: boolean, needs: string): { readonly firstPool?: FirstPool } {
  const pool = firstPool ?? DEFAULT_FIRST_POOL;
  if (pool !== DEFAULT_FIRST_POOL && !hasUnlabelled) throw new SelmixError("INVALID_ARGUMENT", `--first-pool ${pool} draws x1 from the unlabelled split too: add ${needs}`);
  return pool === DEFAULT_FIRST_POOL ? {} : { firstPool: pool };
}

/** Adds the objective's options (`--rate` ... `--lambda-max`, read by {@link objectiveOptionsFrom}) to a command. */
export function withObjectiveOptions(command: Command): Command {
  return command
    .option("--rate <omega>", "min-recall objectives: how sharply the class weights focus on the worst class, weights = softmax(-omega * recall) (default: 50)", parseNumber)
    .option("--memory <beta>", "min-recall objectives: how much of the previous refresh's class weights carries over, in [0, 1]; 0 = none (default: 0)", parseNumber)
    .option("--head-fraction <f>", "min-head-tail-recall: fraction of classes (by index) that are head (default: 0.9)", parseNumber)
    .option("--coverage-alpha <a>", "coverage objectives: every class must be predicted at least alpha/K of the time (default: 0.95)", parseNumber)
    .option("--coverage-tau <tau>", "coverage objectives: how fast the penalty weight of a class grows as its coverage falls below alpha/K (default: 0.01)", parseNumber)
    .option("--lambda-max <l>", "coverage objectives: cap on the penalty weight of a class that is predicted too rarely (default: 100)", parseNumber);
}

/** The objective's options as flat flags (`--rate`, `--memory`, `--head-fraction`, ...). */
export interface ObjectiveFlags {
  readonly rate?: number | undefined;
  readonly memory?: number | undefined;
  readonly headFraction?: number | undefined;
  readonly coverageAlpha?: number | undefined;
  readonly coverageTau?: number | undefined;
  readonly lambdaMax?: number | undefined;
}

/** The flat flags as the objective's options: only the ones given, the head fraction as a head/tail split. */
export function objectiveOptionsFrom(flags: ObjectiveFlags): ObjectiveOptions {
  return {
    ...(flags.rate === undefined ? {} : { rate: flags.rate }),
    ...(flags.memory === undefined ? {} : { memory: flags.memory }),
    ...(flags.headFraction === undefined ? {} : { split: { headFraction: flags.headFraction } }),
    ...(flags.coverageAlpha === undefined ? {} : { coverageAlpha: flags.coverageAlpha }),
    ...(flags.coverageTau === undefined ? {} : { coverageTau: flags.coverageTau }),
    ...(flags.lambdaMax === undefined ? {} : { lambdaMax: flags.lambdaMax }),
  };
}

/** The gain switches as given (over `defaults`), every one resolved, for the run's config.json. */
export function gainSwitchesOf(
  input: {
    readonly gainVariant?: GainVariant | undefined;
    readonly confusion?: GainConfusion | undefined;
    readonly targetTerm?: TargetTerm | undefined;
    readonly prior?: ClassPrior | undefined;
  },
  defaults: FinetuneConfig,
): Pick<FinetuneConfig, "gainVariant" | "prior"> & Required<Pick<FinetuneConfig, "confusion" | "targetTerm">> {
  const gainVariant = input.gainVariant ?? defaults.gainVariant;
  return { gainVariant, ...gainSwitches({ gainVariant, confusion: input.confusion, targetTerm: input.targetTerm, prior: input.prior ?? defaults.prior }) };
}
