import { SelmixError } from "@selmix/core";
import { type ConfusionMatrix, coverages, total } from "./confusion.ts";
import { argMin } from "./recall-metrics.ts";

/**
 * The reference's coverage target: coverage_j >= alpha / K with alpha = 0.95.
 *
 * @example
 * {@includeCode ./examples.test.ts#DEFAULT_COVERAGE_ALPHA}
 */
export const DEFAULT_COVERAGE_ALPHA = 0.95;

/**
 * Chain rule from coverage to the matrix: with cov_j = colsum_j / T,
 * ∂ψ/∂C[a][b] = (h_b − Σ_j h_j·cov_j) / T for h_j = ∂ψ/∂cov_j.
 *
 * @example
 * {@includeCode ./examples.test.ts#gradientFromCoverageWeights}
 */
export function gradientFromCoverageWeights(cm: ConfusionMatrix, weights: ArrayLike<number>): Float64Array {
  const k = cm.numClasses;
  const cov = coverages(cm);
  const t = total(cm);
  let dot = 0;
  for (let j = 0; j < k; j++) dot += weights[j]! * cov[j]!;
  const grad = new Float64Array(k * k);
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) grad[a * k + b] = (weights[b]! - dot) / t;
  return grad;
}

/**
 * The smallest coverage: the rarest predicted class's share of predictions.
 *
 * @example
 * {@includeCode ./examples.test.ts#minCoverage}
 */
export function minCoverage(cm: ConfusionMatrix): number {
  return Math.min(...coverages(cm));
}

/**
 * ∂ minCoverage / ∂C (the first least-covered class on ties).
 *
 * @example
 * {@includeCode ./examples.test.ts#minCoverageGradient}
 */
export function minCoverageGradient(cm: ConfusionMatrix): Float64Array {
  const w = new Float64Array(cm.numClasses);
  w[argMin(coverages(cm))] = 1;
  return gradientFromCoverageWeights(cm, w);
}

/**
 * Per-class coverage deficits max(0, alpha/K − cov_j).
 *
 * @param alpha - Coverage target fraction in (0, 1]; the target per class is alpha / K.
 * @returns Deficit per class, `[K]`.
 * @throws `SelmixError` `INVALID_VALUE` if `alpha` is not in (0, 1].
 * @example
 * {@includeCode ./examples.test.ts#coverageDeficits}
 */
export function coverageDeficits(cm: ConfusionMatrix, alpha: number = DEFAULT_COVERAGE_ALPHA): Float64Array {
  if (!(alpha > 0 && alpha <= 1)) throw new SelmixError("INVALID_VALUE", `coverage alpha must be in (0, 1], got ${alpha}`);
  const target = alpha / cm.numClasses;
  return coverages(cm).map((c) => Math.max(0, target - c));
}

/**
 * A base metric subject to coverage_j >= alpha/K, as one scalar: `max(0, base − Σ_j deficit_j)`.
 * It equals the base metric whenever every constraint holds, and each unit of coverage deficit costs one unit.
 *
 * @param base - The base metric's value at `cm`.
 * @param cm - The confusion matrix.
 * @param alpha - Coverage target fraction in (0, 1]. @defaultValue 0.95
 * @throws `SelmixError` `INVALID_VALUE` if `alpha` is not in (0, 1].
 * @example
 * {@includeCode ./examples.test.ts#penalizedByCoverage}
 */
export function penalizedByCoverage(base: number, cm: ConfusionMatrix, alpha?: number): number {
  const penalty = coverageDeficits(cm, alpha).reduce((a, b) => a + b, 0);
  return Math.max(0, base - penalty);
}

/**
 * Gradient of {@link penalizedByCoverage} given the base metric's value and gradient.
 *
 * @param base - The base metric's value at `cm`.
 * @param baseGradient - The base metric's gradient at `cm`, row-major [K, K].
 * @param cm - The confusion matrix.
 * @param alpha - Coverage target fraction in (0, 1]. @defaultValue 0.95
 * @returns ∂/∂C, row-major [K, K].
 * @throws `SelmixError` `INVALID_VALUE` if `alpha` is not in (0, 1].
 * @example
 * {@includeCode ./examples.test.ts#penalizedByCoverageGradient}
 */
export function penalizedByCoverageGradient(
  base: number,
  baseGradient: Float64Array,
  cm: ConfusionMatrix,
  alpha?: number,
): Float64Array {
  const deficits = coverageDeficits(cm, alpha);
  if (penalizedByCoverage(base, cm, alpha) === 0) return new Float64Array(baseGradient.length);
  const penaltyGrad = gradientFromCoverageWeights(cm, deficits.map((d) => (d > 0 ? 1 : 0)));
  return baseGradient.map((g, idx) => g + penaltyGrad[idx]!);
}
