import { OBJECTIVE_NAMES } from "@selmix/metrics";
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
