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
  /** True labels, `[N]`. */
  readonly labels: Int32Array;
  /** Features, row-major [N, d]. */
  readonly features: Float32Array;
  /** Softmax probabilities, row-major [N, K]. */
  readonly probabilities: Float32Array;
  /** Arg-max classes, `[N]`. */
  readonly predicted: Int32Array;
}

/** Settings of the gain and the pair distribution. */
export interface RefreshSettings {
  /** How pairs are drawn from the gain. */
  readonly policy: PairPolicy;
  /** Mixup λ ~ U(lambdaMin, 1). */
  readonly lambdaMin: number;
  /** Softmax temperature T of the pair distribution. */
  readonly temperature: number;
  /** `absolute`: softmax of G / T; `spread`: of G / (T · std(G)). */
  readonly temperatureScale: "absolute" | "spread";
  /** `reference`: argmax confusion + z_i·z_q target term; `paper`: soft confusion + exact mixed-prototype term. */
  readonly gainVariant: "reference" | "paper";
}

/** One line of the diagnostics written at each refresh. */
export interface RefreshDiagnostics {
  /** Step of the refresh. */
  readonly step: number;
  /** ψ of the validation (argmax) confusion matrix. */
  readonly objective: number;
  /** The objective's multipliers after the refresh, or null. */
  readonly multipliers: number[] | null;
  /** Validation recall per class. */
  readonly recall: number[];
  /** Validation coverage per class. */
  readonly coverage: number[];
  /** Largest entry of the gain matrix. */
  readonly maxGain: number;
  /** exp(entropy) of the pair distribution: 1 = collapsed on one pair, K² = uniform. */
  readonly effectivePairs: number;
  /** The 5 largest gain entries. */
  readonly topGain: PairValue[];
  /** The 5 most likely pairs. */
  readonly topProbability: PairValue[];
  /** Gain entries computed by the streaming-softmax fallback. */
  readonly fallbackEntries: number;
}

/** A refresh's outputs. */
export interface RefreshResult {
  /** Pair distribution, row-major [K, K]. */
  readonly distribution: Float64Array;
  /** Gain matrix, row-major [K, K]. */
  readonly gain: Float64Array;
  /** Multipliers to pass to the next refresh. */
  readonly state: ObjectiveState;
  /** Validation (argmax) confusion matrix. */
  readonly confusion: ConfusionMatrix;
  /** The refresh's diagnostics line. */
  readonly diagnostics: RefreshDiagnostics;
}

/**
 * One SelMix refresh on the validation set: confusion matrix (argmax, or soft for the paper variant), class
 * prototypes, multipliers, gain matrix and the policy's pair distribution.
 *
 * @param step - Training step of the refresh (recorded in the diagnostics).
 * @param view - Validation labels, features and predictions.
 * @param head - Linear head: `weight` row-major [K, dim], `bias` [K].
 * @param k - Number of classes K.
 * @param dim - Feature dimension.
 * @param objective - The objective ψ.
 * @param previous - Multipliers of the previous refresh.
 * @param settings - Gain and pair-distribution settings.
 * @throws `SelmixError` `INVALID_SHAPE` / `INVALID_VALUE` for inconsistent sizes, bad labels or non-finite values; `EMPTY_CLASS` when a class has no validation sample; `INVALID_ARGUMENT` for an unknown policy.
 *
 * @example
 * {@includeCode ./examples.test.ts#refreshPolicy}
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

/**
 * The reference's early stop: the last max gain is within 5% of the mean of the last 10 (history starts at 1000).
 *
 * @param history - Max gain of every refresh so far.
 * @param window - Refreshes averaged.
 * @param tolerance - Relative distance to the mean that counts as converged.
 *
 * @example
 * {@includeCode ./examples.test.ts#gainConverged}
 */
export function gainConverged(history: readonly number[], window = 10, tolerance = 0.05): boolean {
  if (history.length < window) return false;
  const last = history.slice(-window);
  const mean = last.reduce((a, b) => a + b, 0) / window;
  return Math.abs(mean - history[history.length - 1]!) < tolerance * Math.abs(mean);
}
