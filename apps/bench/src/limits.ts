import type { ClassPrior } from "@selmix/metrics";
import type { DatasetSpec, PretrainSpec, RowSpec } from "./types.ts";

/**
 * Overrides of a profile for smoke runs and for the validation-prior switch: every training capped at `maxSteps`,
 * the labelled head class and the validation set shrunk (so a few hundred images per class suffice), the gain's
 * class prior set on every fine-tune.
 */
export interface TableLimits {
  /** Cap on the steps of every pre-training, FixMatch and fine-tuning run (evaluation/refresh intervals follow). */
  readonly maxSteps?: number;
  /** Labelled images of class 0 (N1) instead of the setting's. */
  readonly n1?: number;
  /** Labelled imbalance ratio ρ instead of the setting's. */
  readonly rho?: number;
  /** Validation images per class instead of the setting's. */
  readonly valPerClass?: number;
  /** Class prior of every fine-tune's gain (`validation` for an imbalanced validation set). */
  readonly prior?: ClassPrior;
}

/** The dataset setting with the limits' sizes; same id (results are matched by it), the label says what changed. */
export function limitDataset(d: DatasetSpec, limits: TableLimits): DatasetSpec {
  const changes = [
    { key: "n1", value: limits.n1, label: `N1 = ${limits.n1}` },
    { key: "rho", value: limits.rho, label: `ρ = ${limits.rho}` },
    { key: "valPerClass", value: limits.valPerClass, label: `${limits.valPerClass} validation/class` },
  ].filter((c) => c.value !== undefined);
  if (changes.length === 0) return d;
  const options = { ...d.options, ...Object.fromEntries(changes.map((c) => [c.key, c.value])) };
  return { ...d, options, label: `${d.label} [limited: ${changes.map((c) => c.label).join(", ")}]` };
}

const capped = <T extends { readonly steps: number }>(c: T, every: keyof T & string, max: number | undefined): T => {
  if (max === undefined || c.steps <= max) return c;
  return { ...c, steps: max, [every]: Math.min(c[every] as number, max) };
};

/** The pre-training with its steps capped. */
export function limitPretrain(p: PretrainSpec, limits: TableLimits): PretrainSpec {
  const max = limits.maxSteps;
  if (p.kind === "supervised") return { kind: "supervised", config: capped(p.config, "evalEvery", max) };
  // The warm start is capped like the labelled-only row it equals, so both keep one cache entry.
  const warm = p.warmStart === undefined ? {} : { warmStart: capped(p.warmStart, "evalEvery", max) };
  const alternatives = p.alternatives === undefined ? {} : { alternatives: p.alternatives.map((a) => capped(a, "evalEvery", max)) };
  return { kind: "fixmatch", config: capped(p.config, "evalEvery", max), ...warm, ...alternatives };
}

/** The rows with every fine-tune's steps capped and the prior set. */
export function limitRows(rows: readonly RowSpec[], limits: TableLimits): RowSpec[] {
  const { maxSteps, prior } = limits;
  return rows.map((r) =>
    r.candidates === undefined ? r : { ...r, candidates: r.candidates.map((c) => ({ ...capped(c, "refreshEvery", maxSteps), ...(prior === undefined ? {} : { prior }) })) },
  );
}
