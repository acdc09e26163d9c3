import { SelmixError } from "@selmix/core";

/** How G becomes the pair-sampling distribution. */
export interface DistributionOptions {
  /** Softmax temperature T: P ∝ exp(G / T). Smaller is greedier. @defaultValue 0.1 */
  readonly temperature?: number;
  /**
   * `"absolute"`: softmax of G / T (the reference). `"spread"`: softmax of G / (T · std(G)), a scale-free
   * temperature, so the same T means the same greediness whatever the feature norms. @defaultValue "absolute"
   */
  readonly scale?: "absolute" | "spread";
  /** Added to every entry before the final renormalisation. @defaultValue 1e-8 */
  readonly epsilon?: number;
}

function standardDeviation(g: Float64Array): number {
  let mean = 0;
  for (const v of g) mean += v;
  mean /= g.length;
  let v2 = 0;
  for (const v of g) v2 += (v - mean) ** 2;
  return Math.sqrt(v2 / g.length);
}

/**
 * The SelMix pair-sampling distribution: softmax over all K² entries of G/T, times the mask [G > 0], plus ε
 * everywhere, renormalised to sum to 1 (the reference's rule). Uniform over the K² pairs when no gain is positive.
 *
 * @param gain - row-major [K, K] gain matrix.
 * @returns row-major [K, K] probabilities summing to 1.
 * @throws `SelmixError` `INVALID_VALUE` if T is not > 0 or a gain is not finite.
 * @example
 * {@includeCode ./examples.test.ts#samplingDistribution}
 */
export function samplingDistribution(gain: Float64Array, options: DistributionOptions = {}): Float64Array {
  const t = options.temperature ?? 0.1;
  const epsilon = options.epsilon ?? 1e-8;
  if (!(Number.isFinite(t) && t > 0)) throw new SelmixError("INVALID_VALUE", `temperature must be > 0, got ${t}`);
  if (!(epsilon >= 0)) throw new SelmixError("INVALID_VALUE", `epsilon must be >= 0, got ${epsilon}`);
  let max = Number.NEGATIVE_INFINITY;
  let anyPositive = false;
  for (let i = 0; i < gain.length; i++) {
    const g = gain[i]!;
    if (!Number.isFinite(g)) throw new SelmixError("INVALID_VALUE", `gain[${i}] is ${g}`);
    if (g > max) max = g;
    if (g > 0) anyPositive = true;
  }
  if (!anyPositive) return new Float64Array(gain.length).fill(1 / gain.length);
  let effectiveT = t;
  if (options.scale === "spread") {
    const sd = standardDeviation(gain);
    if (sd > 0) effectiveT = t * sd;
  }
  // One exponential per entry (kept for the second pass); the sums run in index order as before.
  const p = new Float64Array(gain.length);
  let z = 0;
  for (let i = 0; i < gain.length; i++) {
    const e = Math.exp((gain[i]! - max) / effectiveT);
    p[i] = e;
    z += e;
  }
  let total = 0;
  for (let i = 0; i < p.length; i++) {
    const v = (gain[i]! > 0 ? p[i]! / z : 0) + epsilon;
    p[i] = v;
    total += v;
  }
  for (let i = 0; i < p.length; i++) p[i] = p[i]! / total;
  return p;
}

/**
 * exp(entropy): how many pairs the distribution effectively spreads over (1 = a single pair, K² = uniform).
 * A diagnostic for a collapsed sampler.
 *
 * @example
 * {@includeCode ./examples.test.ts#effectivePairs}
 */
export function effectivePairs(distribution: Float64Array): number {
  let h = 0;
  for (const p of distribution) if (p > 0) h -= p * Math.log(p);
  return Math.exp(h);
}

/** One entry of a K×K matrix, for reports. */
export interface PairValue {
  /** Row index (the true class). */
  readonly i: number;
  /** Column index. */
  readonly j: number;
  /** The entry's value. */
  readonly value: number;
}

/**
 * The `count` largest entries of a row-major K×K matrix, largest first (ties: lower index first). O(K²·count).
 *
 * @param matrix - Row-major [K, K].
 * @param numClasses - K.
 * @param count - How many entries to return.
 * @returns `(i, j, value)` of the largest entries.
 * @example
 * {@includeCode ./examples.test.ts#topPairs}
 */
export function topPairs(matrix: Float64Array, numClasses: number, count: number): PairValue[] {
  // A short insertion-sorted list beats sorting all K² entries (1e6 at K = 1000) for the few pairs reports show.
  const top: number[] = [];
  const n = Math.min(count, matrix.length);
  for (let idx = 0; idx < matrix.length; idx++) {
    const v = matrix[idx]!;
    if (top.length === n && !(v > matrix[top[n - 1]!]!)) continue;
    let pos = top.length === n ? n - 1 : top.length;
    while (pos > 0 && v > matrix[top[pos - 1]!]!) {
      top[pos] = top[pos - 1]!;
      pos--;
    }
    top[pos] = idx;
  }
  return top.map((idx) => ({ i: Math.floor(idx / numClasses), j: idx % numClasses, value: matrix[idx]! }));
}
