import type { ConfusionMatrix } from "./confusion.ts";

/** Multipliers carried from one gain refresh to the next (null for objectives without any). */
export interface ObjectiveState {
  /** Lagrange multipliers, or null. */
  readonly multipliers: Float64Array | null;
}

/**
 * The class prior π_i the linearisation assumes: `"uniform"` hard-codes π_i = 1/K (the reference, right on a
 * balanced validation set), `"validation"` uses the row sums of the joint confusion matrix.
 */
export type ClassPrior = "uniform" | "validation";

/** How the gain asks for a linearisation. */
export interface LinearizeContext {
  /** The class prior of the derivative; the gain rate must use the same one. @defaultValue "uniform" */
  readonly prior?: ClassPrior;
}

/** What the gain needs from an objective at one refresh. */
export interface Linearization {
  /** D = ∂ψ/∂C, row-major K×K, evaluated where the objective's rule says (see each objective). */
  readonly derivative: Float64Array;
  /** The gain rate is divided by this (max λ + 1 for the coverage objectives, else 1). */
  readonly normalizer: number;
  /** The multipliers after this refresh; pass them back as `previous` at the next one. */
  readonly state: ObjectiveState;
}

/**
 * A SelMix objective: a metric ψ of the validation confusion matrix plus its multiplier policy. Built-ins and
 * plug-ins share this interface, so the gain never knows the difference.
 */
export interface Objective {
  /** The objective's name. */
  readonly name: string;
  /** ψ at a confusion matrix: what fine-tuning maximises and what checkpoint selection compares. */
  value(cm: ConfusionMatrix): number;
  /**
   * Updates the multipliers from the (unclipped) confusion matrix and linearises ψ.
   *
   * @param previous - the state returned by the previous refresh; omitted at the first one.
   * @param context - the class prior the gain rate uses; D must be the derivative under the same prior.
   */
  linearize(cm: ConfusionMatrix, previous?: ObjectiveState, context?: LinearizeContext): Linearization;
}

/**
 * The reference clips the joint confusion matrix at this value before computing derivatives and the gain.
 *
 * @example
 * {@includeCode ./examples.test.ts#CONFUSION_CLIP}
 */
export const CONFUSION_CLIP = 1e-7;
