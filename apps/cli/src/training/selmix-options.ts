import { OBJECTIVE_NAMES, type ObjectiveOptions } from "@selmix/metrics";
import { PAIR_POLICIES } from "@selmix/trainers";
import { z } from "zod";

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
  earlyStop: z.boolean(),
  selectBest: z.boolean(),
  seed: z.int(),
  rate: z.number().positive(),
  memory: z.number().min(0).max(1),
  headFraction: z.number().gt(0).lt(1),
  coverageAlpha: z.number().positive(),
  coverageTau: z.number().positive(),
  lambdaMax: z.number().positive(),
};

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
