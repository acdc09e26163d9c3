import { SelmixError } from "@selmix/core";

/**
 * Class means of feature vectors: row k of the result is the mean of the features of the samples labelled k.
 * In SelMix these are the validation prototypes z_k.
 *
 * @param features - row-major [N, dim].
 * @param labels - N class indices in [0, numClasses).
 * @param numClasses - Number of classes K.
 * @param dim - Feature dimension.
 * @returns row-major [numClasses, dim].
 * @throws `SelmixError` `INVALID_SHAPE` if sizes disagree; `INVALID_VALUE` for a bad label or a non-finite
 *   feature; `EMPTY_CLASS` naming the first class with no samples (its prototype would be undefined).
 * @example
 * {@includeCode ./examples.test.ts#classPrototypes}
 */
export function classPrototypes(
  features: ArrayLike<number>,
  labels: ArrayLike<number>,
  numClasses: number,
  dim: number,
): Float64Array {
  const n = labels.length;
  if (!(Number.isInteger(dim) && dim > 0)) throw new SelmixError("INVALID_SHAPE", `dim must be a positive integer, got ${dim}`);
  if (features.length !== n * dim) {
    throw new SelmixError("INVALID_SHAPE", `features must have N*dim = ${n}*${dim} = ${n * dim} entries, got ${features.length}`);
  }
  const sums = new Float64Array(numClasses * dim);
  const counts = new Float64Array(numClasses);
  for (let s = 0; s < n; s++) {
    const y = labels[s]!;
    if (!(Number.isInteger(y) && y >= 0 && y < numClasses)) {
      throw new SelmixError("INVALID_VALUE", `labels[${s}] must be a class in [0, ${numClasses}), got ${y}`);
    }
    counts[y]! += 1;
    const row = y * dim;
    const src = s * dim;
    for (let t = 0; t < dim; t++) sums[row + t]! += features[src + t]!;
  }
  for (let k = 0; k < numClasses; k++) {
    if (counts[k] === 0) throw new SelmixError("EMPTY_CLASS", `class ${k} has no samples, so it has no prototype`);
    const inv = 1 / counts[k]!;
    for (let t = 0; t < dim; t++) sums[k * dim + t]! *= inv;
  }
  for (const v of sums) if (!Number.isFinite(v)) throw new SelmixError("INVALID_VALUE", "features contain NaN or infinite values");
  return sums;
}
