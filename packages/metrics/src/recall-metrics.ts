import { type ConfusionMatrix, recalls, rowSums } from "./confusion.ts";
import { type HeadTailSplit, headTailGroups } from "./head-tail.ts";

/**
 * Chain rule from per-class recall to the matrix: with r_a = C[a][a] / R_a,
 * ∂r_a/∂C[a][b] = (δ_ab − r_a) / R_a, and 0 for other rows.
 *
 * @param weights - ∂ψ/∂r_a per class, `[K]`.
 * @returns ∂ψ/∂C, row-major [K, K].
 * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples.
 * @example
 * {@includeCode ./examples.test.ts#gradientFromRecallWeights}
 */
export function gradientFromRecallWeights(cm: ConfusionMatrix, weights: ArrayLike<number>): Float64Array {
  const k = cm.numClasses;
  const r = recalls(cm);
  const rows = rowSums(cm);
  const grad = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    const w = weights[a]! / rows[a]!;
    if (w === 0) continue;
    for (let b = 0; b < k; b++) grad[a * k + b] = w * ((a === b ? 1 : 0) - r[a]!);
  }
  return grad;
}

/**
 * Index of the smallest entry (the first one on ties).
 *
 * @example
 * {@includeCode ./examples.test.ts#argMin}
 */
export function argMin(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! < values[best]!) best = i;
  return best;
}

/**
 * Mean of per-class recall (balanced accuracy, sklearn's `balanced_accuracy_score`).
 *
 * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples.
 * @example
 * {@includeCode ./examples.test.ts#meanRecall}
 */
export function meanRecall(cm: ConfusionMatrix): number {
  const r = recalls(cm);
  return r.reduce((a, b) => a + b, 0) / r.length;
}

/**
 * ∂ meanRecall / ∂C.
 *
 * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples.
 * @example
 * {@includeCode ./examples.test.ts#meanRecallGradient}
 */
export function meanRecallGradient(cm: ConfusionMatrix): Float64Array {
  return gradientFromRecallWeights(cm, new Float64Array(cm.numClasses).fill(1 / cm.numClasses));
}

/**
 * The worst class's recall.
 *
 * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples.
 * @example
 * {@includeCode ./examples.test.ts#minRecall}
 */
export function minRecall(cm: ConfusionMatrix): number {
  return Math.min(...recalls(cm));
}

/**
 * A (sub)gradient of minRecall: the gradient of the recall of the worst class (the first one on ties).
 *
 * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples.
 * @example
 * {@includeCode ./examples.test.ts#minRecallGradient}
 */
export function minRecallGradient(cm: ConfusionMatrix): Float64Array {
  const w = new Float64Array(cm.numClasses);
  w[argMin(recalls(cm))] = 1;
  return gradientFromRecallWeights(cm, w);
}

/**
 * Harmonic mean of per-class recall, K / Σ 1/r_i; 0 as soon as one recall is 0 (scipy's `hmean` convention).
 *
 * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples.
 * @example
 * {@includeCode ./examples.test.ts#hMeanRecall}
 */
export function hMeanRecall(cm: ConfusionMatrix): number {
  const r = recalls(cm);
  if (r.includes(0)) return 0;
  return r.length / r.reduce((a, b) => a + 1 / b, 0);
}

/**
 * ∂ hMeanRecall / ∂C. Where recalls are positive, ∂H/∂r_i = H² / (K·r_i²). With exactly one zero recall the
 * metric is still differentiable from above (H ≈ K·r_i near 0): ∂H/∂r_i = K for that class and 0 for the others.
 * With two or more zero recalls, raising one leaves H at 0, so the gradient is 0.
 *
 * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples.
 * @example
 * {@includeCode ./examples.test.ts#hMeanRecallGradient}
 */
export function hMeanRecallGradient(cm: ConfusionMatrix): Float64Array {
  const r = recalls(cm);
  const k = r.length;
  const zeros = r.reduce((n, v) => n + (v === 0 ? 1 : 0), 0);
  if (zeros >= 2) return new Float64Array(k * k);
  if (zeros === 1) return gradientFromRecallWeights(cm, r.map((v) => (v === 0 ? k : 0)));
  const h = hMeanRecall(cm);
  return gradientFromRecallWeights(cm, r.map((v) => (h * h) / (k * v * v)));
}

/**
 * Geometric mean of per-class recall, (Π r_i)^(1/K); 0 as soon as one recall is 0.
 *
 * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples.
 * @example
 * {@includeCode ./examples.test.ts#gMeanRecall}
 */
export function gMeanRecall(cm: ConfusionMatrix): number {
  const r = recalls(cm);
  if (r.includes(0)) return 0;
  return Math.exp(r.reduce((a, b) => a + Math.log(b), 0) / r.length);
}

/**
 * ∂ gMeanRecall / ∂C, with ∂G/∂r_i = G / (K·r_i). When a recall is 0 the derivative with respect to it is
 * unbounded (r^(1/K) has infinite slope at 0), so the gradient is defined as 0 there, matching the reference:
 * its gain is then 0 everywhere and sampling falls back to uniform.
 *
 * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples.
 * @example
 * {@includeCode ./examples.test.ts#gMeanRecallGradient}
 */
export function gMeanRecallGradient(cm: ConfusionMatrix): Float64Array {
  const r = recalls(cm);
  const k = r.length;
  if (r.includes(0)) return new Float64Array(k * k);
  const g = gMeanRecall(cm);
  return gradientFromRecallWeights(cm, r.map((v) => g / (k * v)));
}

function groupMean(r: Float64Array, group: readonly number[]): number {
  return group.reduce((a, c) => a + r[c]!, 0) / group.length;
}

/**
 * Mean recall of the head classes and of the tail classes.
 *
 * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples; `INVALID_VALUE` / `INVALID_ARGUMENT` if `split` is invalid (see {@link headTailGroups}).
 * @example
 * {@includeCode ./examples.test.ts#headTailRecall}
 */
export function headTailRecall(cm: ConfusionMatrix, split?: HeadTailSplit): {
  /** Mean recall of the head classes. */
  head: number;
  /** Mean recall of the tail classes. */
  tail: number;
} {
  const groups = headTailGroups(cm.numClasses, split);
  const r = recalls(cm);
  return { head: groupMean(r, groups.head), tail: groupMean(r, groups.tail) };
}

/**
 * min(mean head recall, mean tail recall); head = first 90% of classes by default.
 *
 * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples; `INVALID_VALUE` / `INVALID_ARGUMENT` if `split` is invalid (see {@link headTailGroups}).
 * @example
 * {@includeCode ./examples.test.ts#minHeadTailRecall}
 */
export function minHeadTailRecall(cm: ConfusionMatrix, split?: HeadTailSplit): number {
  const { head, tail } = headTailRecall(cm, split);
  return Math.min(head, tail);
}

/**
 * ∂ minHeadTailRecall / ∂C: the gradient of the smaller group mean (the head on a tie).
 *
 * @throws `SelmixError` `EMPTY_CLASS` if a class has no samples; `INVALID_VALUE` / `INVALID_ARGUMENT` if `split` is invalid (see {@link headTailGroups}).
 * @example
 * {@includeCode ./examples.test.ts#minHeadTailRecallGradient}
 */
export function minHeadTailRecallGradient(cm: ConfusionMatrix, split?: HeadTailSplit): Float64Array {
  const groups = headTailGroups(cm.numClasses, split);
  const r = recalls(cm);
  const worst = groupMean(r, groups.tail) < groupMean(r, groups.head) ? groups.tail : groups.head;
  const w = new Float64Array(cm.numClasses);
  for (const c of worst) w[c] = 1 / worst.length;
  return gradientFromRecallWeights(cm, w);
}
