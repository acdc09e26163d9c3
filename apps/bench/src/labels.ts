import type { ObjectiveName } from "@selmix/metrics";
import type { FirstPool } from "@selmix/trainers";
import type { FixMatchVariant } from "./types.ts";

/** Short human names of the objectives. */
export const OBJECTIVE_LABELS: Readonly<Record<ObjectiveName, string>> = {
  "mean-recall": "mean recall",
  "min-recall": "min recall",
  "min-head-tail-recall": "min head-tail recall",
  "g-mean": "G-mean",
  "h-mean": "H-mean",
  "mean-recall-min-coverage": "mean recall s.t. min coverage",
  "h-mean-min-coverage": "H-mean s.t. min coverage",
};

/** A FixMatch-LA candidate as the tables name it: its unlabelled prior, "+ alignment" with distribution alignment. */
export function fixMatchVariantLabel(v: FixMatchVariant): string {
  return v.distributionAlignment === true ? `${v.unlabeledPrior} + alignment` : v.unlabeledPrior;
}

/** x₁'s pools as the tables name them. */
export const FIRST_POOL_LABELS: Readonly<Record<FirstPool, string>> = {
  labeled: "labelled",
  "labeled+unlabeled": "labelled + unlabelled",
};
