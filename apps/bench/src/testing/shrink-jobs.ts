// Test-only: a profile's jobs made small enough for a test (a smaller split, fewer steps, optionally fewer rows).
import type { Job, RowSpec } from "../types.ts";

/** How small. */
export interface ShrinkOptions {
  /** The split's options instead of the setting's (e.g. `{ n1: 500, rho: 10, valPerClass: 50 }`). */
  readonly split: Job["dataset"]["options"];
  /** Pre-training steps, validated every `evalEvery` (default: once, at the end). */
  readonly pretrainSteps: number;
  readonly evalEvery?: number;
  /** Fine-tuning steps of every candidate, refreshed every `refreshEvery`. */
  readonly finetuneSteps: number;
  readonly refreshEvery: number;
  /** Keep only these rows. */
  readonly rows?: ReadonlySet<string>;
}

/** Each job with the split, steps and rows of `o` (supervised pre-trainings only; FixMatch ones unchanged). */
export function shrinkJobs(jobs: readonly Job[], o: ShrinkOptions): Job[] {
  const shrinkRow = (r: RowSpec): RowSpec => (r.candidates === undefined ? r : { ...r, candidates: r.candidates.map((c) => ({ ...c, steps: o.finetuneSteps, refreshEvery: o.refreshEvery })) });
  return jobs.map((j) => ({
    ...j,
    dataset: { ...j.dataset, options: o.split },
    pretrain: j.pretrain.kind === "supervised" ? { kind: "supervised", config: { ...j.pretrain.config, steps: o.pretrainSteps, evalEvery: o.evalEvery ?? o.pretrainSteps } } : j.pretrain,
    rows: j.rows.filter((r) => o.rows === undefined || o.rows.has(r.id)).map(shrinkRow),
  }));
}
