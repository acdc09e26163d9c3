import { classPrototypes, effectivePairs, gainMatrix, type PairValue, topPairs } from "@selmix/gain";
import {
  type ClassPrior,
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

/** Which validation confusion matrix feeds the gain: arg-max predictions (the reference) or the paper's soft C̃. */
export type GainConfusion = "argmax" | "soft";

/** Target-class term of the logit change: z_i·z_q (the reference) or the mixed prototype z̃_ij·z_q (exact). */
export type TargetTerm = "reference" | "exact";

/** The gain's switches, each on its own. */
export interface GainSwitches {
  /**
   * The matrix the objective is linearised at: D and the multipliers (min recall, head-tail, coverage) both come
   * from it, so they describe one point. The diagnostics and the checkpoint selection always use the arg-max matrix.
   */
  readonly confusion: GainConfusion;
  /** Target-class term of the logit change. */
  readonly targetTerm: TargetTerm;
  /** Class prior of the gain rate and of D (`"validation"` for an imbalanced validation set). */
  readonly prior: ClassPrior;
}

/** A named pair of confusion matrix and target term. */
export type GainVariant = "reference" | "paper";

/**
 * The named pairs: `reference` = arg-max confusion + z_i·z_q (the released code), `paper` = soft confusion C̃ +
 * exact mixed-prototype term (the paper's derivation).
 *
 * @example
 * {@includeCode ./examples.test.ts#GAIN_VARIANTS}
 */
export const GAIN_VARIANTS: Readonly<Record<GainVariant, Pick<GainSwitches, "confusion" | "targetTerm">>> = {
  reference: { confusion: "argmax", targetTerm: "reference" },
  paper: { confusion: "soft", targetTerm: "exact" },
};

/**
 * The gain's switches of a config: the named variant's pair, with `confusion` / `targetTerm` overriding either
 * half, and the prior (uniform when not given).
 *
 * @example
 * {@includeCode ./examples.test.ts#gainSwitches}
 */
export function gainSwitches(config: {
  readonly gainVariant: GainVariant;
  readonly confusion?: GainConfusion | undefined;
  readonly targetTerm?: TargetTerm | undefined;
  readonly prior?: ClassPrior | undefined;
}): GainSwitches {
  const pair = GAIN_VARIANTS[config.gainVariant];
  return { confusion: config.confusion ?? pair.confusion, targetTerm: config.targetTerm ?? pair.targetTerm, prior: config.prior ?? "uniform" };
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
  /** Confusion matrix, target term and prior of the gain. */
  readonly gain: GainSwitches;
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
 * One SelMix refresh on the validation set: confusion matrix (arg-max, or soft with `gain.confusion`), class
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
  const gainConfusion = settings.gain.confusion === "soft" ? softConfusion(view.labels, view.probabilities, k) : confusion;
  const prototypes = classPrototypes(view.features, view.labels, k, dim);
  const result = gainMatrix(
    { confusion: gainConfusion, prototypes, weights: head.weight, bias: head.bias, dim, objective, ...(previous ? { state: previous } : {}) },
    { lambdaMin: settings.lambdaMin, targetTerm: settings.gain.targetTerm, prior: settings.gain.prior },
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
