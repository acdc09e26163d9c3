import type { Subset } from "@selmix/datasets";
import type { MetricReport } from "@selmix/metrics";
import { type Model, type NamedArray, saveCheckpoint } from "@selmix/models";
import type { Ema } from "./ema.ts";
import { evaluate } from "./evaluate.ts";
import { reportMetric, type SelectionMetric } from "./progress.ts";

/** The best validation point so far (part of a pre-training's resumable state). */
export interface BestSoFar {
  bestStep: number;
  bestValue: number;
  bestValidation: MetricReport | null;
}

/** Runs `body` with the EMA weights loaded (when EMA is on), then puts the live weights back. */
export async function withEvalWeights<T>(model: Model, ema: Ema | undefined, body: () => Promise<T>): Promise<T> {
  if (ema === undefined) return body();
  const live = model.getWeights();
  model.setWeights(ema.weights());
  try {
    return await body();
  } finally {
    model.setWeights(live);
  }
}

/**
 * Validates the evaluated weights (the EMA when on) and, when `selectBy` improves, records the step in `best`,
 * writes `bestPath` and returns a copy of those weights. Selection only ever sees the validation set.
 */
export async function validateAndKeepBest(
  model: Model,
  ema: Ema | undefined,
  validation: Subset,
  selectBy: SelectionMetric,
  step: number,
  best: BestSoFar,
  bestPath: string | undefined,
  datasetManifestId: string | undefined,
): Promise<{ report: MetricReport; improved: boolean; weights?: NamedArray[] }> {
  const report = await withEvalWeights(model, ema, async () => (await evaluate(model, validation.dataset, validation.indices)).metrics);
  const value = reportMetric(report, selectBy);
  if (!(value > best.bestValue)) return { report, improved: false };
  best.bestValue = value;
  best.bestStep = step;
  best.bestValidation = report;
  if (bestPath !== undefined) {
    await withEvalWeights(model, ema, async () => {
      saveCheckpoint(bestPath, model, { step, ...(datasetManifestId ? { datasetManifestId } : {}) });
    });
  }
  return { report, improved: true, weights: ema ? ema.weights() : model.getWeights() };
}
