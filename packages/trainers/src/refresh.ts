import { classPrototypes, effectivePairs, gainMatrix, type PairValue, topPairs } from "@selmix/gain";
import {
  type ConfusionMatrix,
  confusionFromPredictions,
  coverages,
  type Objective,
  type ObjectiveState,
  recalls,
  softConfusion,
} from "@selmix/metrics";
import { type PairPolicy, policyDistribution } from "./policies.ts";

/** What the validation pass of a refresh produced (features of every validation sample, predictions). */
export interface ValidationView {
  readonly labels: Int32Array;
  readonly features: Float32Array;
  readonly probabilities: Float32Array;
  readonly predicted: Int32Array;
}

/** Settings of the gain and the pair distribution. */
export interface RefreshSettings {
  readonly policy: PairPolicy;
  readonly lambdaMin: number;
  readonly temperature: number;
  readonly temperatureScale: "absolute" | "spread";
  /** `reference`: argmax confusion + z_i·z_q target term; `paper`: soft confusion + exact mixed-prototype term. */
  readonly gainVariant: "reference" | "paper";
}

/** One line of the diagnostics written at each refresh. */
export interface RefreshDiagnostics {
  readonly step: number;
  /** ψ of the validation (argmax) confusion matrix. */
  readonly objective: number;
  readonly multipliers: number[] | null;
  readonly recall: number[];
  readonly coverage: number[];
  readonly maxGain: number;
  /** exp(entropy) of the pair distribution: 1 = collapsed on one pair, K² = uniform. */
  readonly effectivePairs: number;
  readonly topGain: PairValue[];
  readonly topProbability: PairValue[];
  readonly fallbackEntries: number;
}

/** A refresh's outputs. */
export interface RefreshResult {
  readonly distribution: Float64Array;
  readonly gain: Float64Array;
  readonly state: ObjectiveState;
  readonly confusion: ConfusionMatrix;
  readonly diagnostics: RefreshDiagnostics;
}

/**
 * One SelMix refresh on the validation set: confusion matrix (argmax, or soft for the paper variant), class
 * prototypes, multipliers, gain matrix and the policy's pair distribution.
 */
export function refreshPolicy(
  step: number,
  view: ValidationView,
  head: { readonly weight: ArrayLike<number>; readonly bias: ArrayLike<number> },
  k: number,
  dim: number,
  objective: Objective,
  previous: ObjectiveState | undefined,
  settings: RefreshSettings,
): RefreshResult {
  const confusion = confusionFromPredictions(view.labels, view.predicted, k);
  const gainConfusion = settings.gainVariant === "paper" ? softConfusion(view.labels, view.probabilities, k) : confusion;
  const prototypes = classPrototypes(view.features, view.labels, k, dim);
  const result = gainMatrix(
    { confusion: gainConfusion, prototypes, weights: head.weight, bias: head.bias, dim, objective, ...(previous ? { state: previous } : {}) },
    { lambdaMin: settings.lambdaMin, targetTerm: settings.gainVariant === "paper" ? "exact" : "reference" },
  );
  const multipliers = result.linearization.state.multipliers;
  const distribution = policyDistribution(settings.policy, result.gain, multipliers, k, {
    temperature: settings.temperature,
    scale: settings.temperatureScale,
  });
  let maxGain = Number.NEGATIVE_INFINITY;
  for (const g of result.gain) maxGain = Math.max(maxGain, g);
  return {
    distribution,
    gain: result.gain,
    state: result.linearization.state,
    confusion,
    diagnostics: {
      step,
      objective: objective.value(confusion),
      multipliers: multipliers === null ? null : Array.from(multipliers),
      recall: Array.from(recalls(confusion)),
      coverage: Array.from(coverages(confusion)),
      maxGain,
      effectivePairs: effectivePairs(distribution),
      topGain: topPairs(result.gain, k, 5),
      topProbability: topPairs(distribution, k, 5),
      fallbackEntries: result.fallbackEntries,
    },
  };
}

/** The reference's early stop: the last max gain is within 5% of the mean of the last 10 (history starts at 1000). */
export function gainConverged(history: readonly number[], window = 10, tolerance = 0.05): boolean {
  if (history.length < window) return false;
  const last = history.slice(-window);
  const mean = last.reduce((a, b) => a + b, 0) / window;
  return Math.abs(mean - history[history.length - 1]!) < tolerance * Math.abs(mean);
}
