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
  /** Validation images per class instead of the setting's. */
  readonly valPerClass?: number;
  /** Class prior of every fine-tune's gain (`validation` for an imbalanced validation set). */
  readonly prior?: ClassPrior;
}

/** The dataset setting with the limits' sizes; same id (results are matched by it), the label says what changed. */
export function limitDataset(d: DatasetSpec, limits: TableLimits): DatasetSpec {
  if (limits.n1 === undefined && limits.valPerClass === undefined) return d;
  const n1 = limits.n1 === undefined ? {} : { n1: limits.n1 };
  const val = limits.valPerClass === undefined ? {} : { valPerClass: limits.valPerClass };
  const what = [limits.n1 === undefined ? "" : `N1 = ${limits.n1}`, limits.valPerClass === undefined ? "" : `${limits.valPerClass} validation/class`];
  return { ...d, options: { ...d.options, ...n1, ...val }, label: `${d.label} [limited: ${what.filter(Boolean).join(", ")}]` };
}

const capped = <T extends { readonly steps: number }>(c: T, every: keyof T & string, max: number | undefined): T => {
  if (max === undefined || c.steps <= max) return c;
  return { ...c, steps: max, [every]: Math.min(c[every] as number, max) };
};

/** The pre-training with its steps capped. */
export function limitPretrain(p: PretrainSpec, limits: TableLimits): PretrainSpec {
  const max = limits.maxSteps;
  return p.kind === "supervised" ? { kind: "supervised", config: capped(p.config, "evalEvery", max) } : { kind: "fixmatch", config: capped(p.config, "evalEvery", max) };
}

/** The rows with every fine-tune's steps capped and the prior set. */
export function limitRows(rows: readonly RowSpec[], limits: TableLimits): RowSpec[] {
  const { maxSteps, prior } = limits;
  return rows.map((r) =>
    r.candidates === undefined ? r : { ...r, candidates: r.candidates.map((c) => ({ ...capped(c, "refreshEvery", maxSteps), ...(prior === undefined ? {} : { prior }) })) },
  );
}
