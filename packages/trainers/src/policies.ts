import { SelmixError } from "@selmix/core";
import { samplingDistribution } from "@selmix/gain";

/**
 * How fine-tuning picks mixup pairs.
 * - `selmix`: P = softmax(G/T) over positive gains (the method).
 * - `uniform`: every (i, j) equally likely (uniform-mixup baseline).
 * - `greedy`: always the arg-max pair of G (the paper's greedy ablation).
 * - `multipliers-only`: first class ∝ the objective's multipliers, partner uniform (uniform over classes when the
 *   objective has none).
 * - `class-balanced`: first class uniform, no mixup (class-balanced fine-tuning baseline).
 * - `resampling`: SelMix's sampler, refreshed like SelMix, but no mixup (λ = 1): training sees exactly the class
 *   marginal that SelMix's pair distribution induces on x₁ (the "is it only resampling?" baseline of Teney et al.).
 */
export type PairPolicy = "selmix" | "uniform" | "greedy" | "multipliers-only" | "class-balanced" | "resampling";

/**
 * Every pair policy.
 *
 * @example
 * {@includeCode ./examples.test.ts#PAIR_POLICIES}
 */
export const PAIR_POLICIES: readonly PairPolicy[] = ["selmix", "uniform", "greedy", "multipliers-only", "class-balanced", "resampling"];

/**
 * Whether a policy trains on mixups (false for `class-balanced` and `resampling`: λ = 1, so the partner's features
 * are multiplied by 0).
 *
 * @example
 * {@includeCode ./examples.test.ts#policyMixes}
 */
export function policyMixes(policy: PairPolicy): boolean {
  return policy !== "class-balanced" && policy !== "resampling";
}

/**
 * Whether the pair sampler mixes in the reference's exploration, P_eff = (P + 1/K³)/(1 + 1/K): SelMix does, and so
 * does `resampling`, whose x₁ marginal must be SelMix's.
 *
 * @example
 * {@includeCode ./examples.test.ts#policyExplores}
 */
export function policyExplores(policy: PairPolicy): boolean {
  return policy === "selmix" || policy === "resampling";
}

/**
 * The K×K pair distribution a policy uses at one refresh.
 *
 * @param policy - Which pair policy.
 * @param gain - Gain matrix, row-major [K, K].
 * @param multipliers - The objective's multipliers (`multipliers-only`), or null.
 * @param k - Number of classes K.
 * @param options - Temperature and its scale (`selmix`).
 * @returns Pair probabilities, row-major [K, K].
 * @throws `SelmixError` `INVALID_ARGUMENT` for an unknown policy; `INVALID_VALUE` if the temperature is not > 0 or a gain is not finite (`selmix`).
 *
 * @example
 * {@includeCode ./examples.test.ts#policyDistribution}
 */
export function policyDistribution(
  policy: PairPolicy,
  gain: Float64Array,
  multipliers: Float64Array | null,
  k: number,
  options: { readonly temperature: number; readonly scale: "absolute" | "spread" },
): Float64Array {
  switch (policy) {
    case "selmix":
    case "resampling":
      return samplingDistribution(gain, options);
    case "uniform":
    case "class-balanced":
      return new Float64Array(k * k).fill(1 / (k * k));
    case "greedy": {
      let best = 0;
      for (let idx = 1; idx < gain.length; idx++) if (gain[idx]! > gain[best]!) best = idx;
      const p = new Float64Array(k * k);
      p[best] = 1;
      return p;
    }
    case "multipliers-only": {
      const m = multipliers ?? new Float64Array(k).fill(1);
      const total = m.reduce((a, b) => a + b, 0);
      if (!(total > 0)) return new Float64Array(k * k).fill(1 / (k * k));
      const p = new Float64Array(k * k);
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) p[i * k + j] = m[i]! / total / k;
      return p;
    }
    default:
      throw new SelmixError("INVALID_ARGUMENT", `unknown pair policy "${String(policy)}"; expected one of ${PAIR_POLICIES.join(", ")}`);
  }
}
