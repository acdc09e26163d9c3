import fc from "fast-check";

/** Standard normal quantiles used for chi-square bounds. */
export const Z_0_9999 = 3.719016485455709;

/**
 * Wilson–Hilferty approximation of the chi-square quantile with `dof` degrees of freedom at the standard normal
 * quantile `z`: dof·(1 − 2/(9 dof) + z·√(2/(9 dof)))³.
 */
export function chiSquareQuantile(dof: number, z: number): number {
  const a = 2 / (9 * dof);
  return dof * (1 - a + z * Math.sqrt(a)) ** 3;
}

/**
 * Pearson chi-square of `counts` against `probabilities` (same length) over `total` draws. Cells with probability 0
 * are left out of the statistic and the degrees of freedom; the caller checks separately that their count is 0.
 */
export function pearson(counts: ArrayLike<number>, probabilities: ArrayLike<number>, total: number): { stat: number; dof: number } {
  let stat = 0;
  let cells = 0;
  for (let c = 0; c < counts.length; c++) {
    const p = probabilities[c]!;
    if (p === 0) continue;
    const e = total * p;
    stat += (counts[c]! - e) ** 2 / e;
    cells++;
  }
  return { stat, dof: cells - 1 };
}

/** K in [min, max] and a K×K row-major non-negative weight array with a positive sum (some entries may be 0). */
export function arbDistribution(min = 2, max = 5): fc.Arbitrary<{ k: number; p: Float64Array }> {
  return fc.integer({ min, max }).chain((k) =>
    fc
      .array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 10, noNaN: true })), { minLength: k * k, maxLength: k * k })
      .map((w) => {
        const p = Float64Array.from(w);
        if (p.every((v) => v === 0)) p[0] = 1;
        return { k, p };
      }),
  );
}

/** A pool of `size` entries with classes in [0, k) and distinct dataset indices starting at `base`. */
export function arbPool(
  k: number,
  base: number,
  minSize = 1,
  maxSize = 40,
): fc.Arbitrary<{ indices: Int32Array; labels: Int32Array }> {
  return fc.array(fc.integer({ min: 0, max: k - 1 }), { minLength: minSize, maxLength: maxSize }).map((labels) => ({
    // Spread the dataset indices so that a mix-up of position and dataset index would be caught.
    indices: Int32Array.from(labels, (_, n) => base + 3 * n + 1),
    labels: Int32Array.from(labels),
  }));
}

/** Pool where class c has `sizes[c]` samples, dataset indices base, base+1, ... */
export function poolOfSizes(sizes: readonly number[], base = 0): { indices: Int32Array; labels: Int32Array } {
  const labels = sizes.flatMap((s, c) => Array.from({ length: s }, () => c));
  return { indices: Int32Array.from(labels, (_, n) => base + n), labels: Int32Array.from(labels) };
}
